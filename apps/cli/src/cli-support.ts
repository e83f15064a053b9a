/** A mistake in the command line itself; printed without a stack, exit code 2. */
export class CliUsageError extends Error {}

/** The whole of stdin, minus one trailing newline (what `echo` or a heredoc adds). */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A file a flag names (`--x-file PATH`, `/dev/fd/3` for a descriptor); failures say which flag and why. */
export function fileFlag(flag: string, path: string, readFile: (p: string) => string): string {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new CliUsageError(`--${flag}: cannot read "${path}": ${why}`);
  }
}
