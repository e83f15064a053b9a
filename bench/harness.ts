// Shared pieces of the benchmarks: statistics, process CPU and memory from /proc, the
// Postbote all-in-one as a user runs it, and result tables.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { call, connect } from '@postbote/grpc-runtime';
import { ConnectorServiceClient, Protocol, Security, Strategy, type ConnectorSpec } from '@postbote/proto';
import { DOVECOT, DOVECOT_PASSWORD, adminAuthFrom, eventually, serviceAddresses, startAllInOne, tempDir, type Proc } from '@postbote/testing';

export const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
  return { median, min: s[0] ?? NaN, max: s.at(-1) ?? NaN, n: s.length };
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** CPU seconds (user + system) a process used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  return procTimes(`/proc/${pid}/stat`).own;
}

/** A process's or thread's CPU seconds from its `stat` file: its own (utime + stime), and its reaped children's (cutime + cstime). */
export function procTimes(statPath: string): { own: number; reaped: number } {
  const f = readFileSync(statPath, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { own: (Number(f[11]) + Number(f[12])) / TICKS, reaped: (Number(f[13]) + Number(f[14])) / TICKS };
}

/** Resident memory of a process in MiB, now and at its peak (VmHWM). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resets a process's peak RSS counter (Linux: write 5 to clear_refs). */
export function resetPeak(pid: number): void {
  try {
    execFileSync('sh', ['-c', `echo 5 > /proc/${pid}/clear_refs`]);
  } catch {
    // Not permitted here: the peak then covers the whole life of the process.
  }
}

/** `--name value` pairs after the script's path. */
export function benchArgs(): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
  return args;
}

export const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');
export const fmtStats = (s: Stats, digits = 0) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/** Prints a markdown table. */
export function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface RunningPostbote {
  readonly proc: Proc;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly config: ConnectorServiceClient;
  stop(): Promise<void>;
}

/** `postbote start` as a user runs it (built bundle, own data folder), plus a config client. */
export async function startPostbote(extraEnv: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<RunningPostbote> {
  const dataDir = tempDir('pb-bench-');
  const env: NodeJS.ProcessEnv = { POSTBOTE_DATA_DIR: dataDir, ...(await serviceAddresses()), LOG_LEVEL: 'info', ...extraEnv };
  const proc = await startAllInOne(env, 60_000, nodeArgs);
  const config = connect(ConnectorServiceClient, env['CONFIG_SERVICE_ADDR'] ?? '', adminAuthFrom(dataDir));
  return {
    proc,
    env,
    dataDir,
    config,
    stop: async () => {
      config.close();
      proc.child.kill('SIGTERM');
      await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    },
  };
}

/** A connector on the test Dovecot for `user` (IMAPS or POP3S, the test CA). */
export function dovecotSpec(name: string, protocol: 'IMAP' | 'POP3', user: string, over: Partial<ConnectorSpec> = {}): ConnectorSpec {
  return {
    name,
    protocol: protocol === 'IMAP' ? Protocol.IMAP : Protocol.POP3,
    host: DOVECOT.host,
    port: protocol === 'IMAP' ? DOVECOT.imaps : DOVECOT.pop3s,
    security: Security.SSL,
    trustedCaPem: DOVECOT.caPem(),
    username: user,
    password: DOVECOT_PASSWORD,
    workflowId: `wf-${name}`,
    ...(protocol === 'IMAP' ? { strategy: Strategy.MARK_READ } : {}),
    ...over,
  };
}

export async function createConnector(pb: RunningPostbote, spec: ConnectorSpec): Promise<string> {
  const res = await call(pb.config.createConnector, pb.config, { spec });
  return res.connector?.id ?? '';
}

export { eventually };
