/** A mistake in the command line itself; printed without a stack, exit code 2. */
export class CliUsageError extends Error {}

/** The whole of stdin, minus one trailing newline (what `echo` or a heredoc adds). */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
