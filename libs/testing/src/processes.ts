import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { healthStatus } from './grpc-probe';
import { freePort } from './ports';
import { eventually, tempDir } from './temp';

/** The repository root (tests drive the built bundles under dist/). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const CLI = join(REPO_ROOT, 'dist/apps/cli/main.js');

let built = false;
/** Builds the bundles once per test process (tests drive them as separate processes). */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'tools/build.mjs')], { stdio: 'ignore' });
  built = true;
}

export interface Proc {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  readonly exited: Promise<number | null>;
}

/**
 * Starts a Node script with only PATH and `env` as its environment; output is captured.
 * The web console listens on a free port unless the test names one: processes started side
 * by side must not meet on the default 8080. The data folder is a fresh one unless the test
 * names one: a service started without it must not leave an admin token in the checkout's
 * `data/`, where a later `npm start` would read it (a CI run then `npm start` answered
 * UNAUTHENTICATED to the CLI).
 */
export function launch(file: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, file, ...args], { env: { PATH: process.env['PATH'], CONSOLE_ADDR: '127.0.0.1:0', POSTBOTE_DATA_DIR: tempDir('pb-launched-'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Runs the built `postbote` command to completion. */
export function runCli(env: NodeJS.ProcessEnv, args: string[], stdin?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...env }, input: stdin ?? '', encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

export interface ServiceAddresses {
  readonly CONFIG_SERVICE_ADDR: string;
  readonly STORAGE_SERVICE_ADDR: string;
  readonly TRIGGER_SERVICE_ADDR: string;
  readonly FETCHER_SERVICE_ADDR: string;
}

/** The four service addresses on free loopback ports, as the services read them. */
export async function serviceAddresses(): Promise<ServiceAddresses> {
  return {
    CONFIG_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
    STORAGE_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
    TRIGGER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
    FETCHER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
  };
}

/** `postbote start` with `env`, resolved once it says it is running. */
export async function startAllInOne(env: NodeJS.ProcessEnv, timeoutMs = 30_000, nodeArgs: string[] = []): Promise<Proc> {
  ensureBuilt();
  const proc = launch(CLI, ['start'], env, nodeArgs);
  // "postbote is running" is an info line; with a quieter LOG_LEVEL the fetcher's health
  // (the service started last) says it instead.
  const quiet = ['warn', 'error', 'fatal', 'silent'].includes(env['LOG_LEVEL'] ?? '');
  const fetcher = env['FETCHER_SERVICE_ADDR'];
  const ready = async () =>
    proc.child.exitCode !== null ||
    (quiet && fetcher ? await healthStatus(fetcher).then((s) => s === 'SERVING', () => false) : proc.out().includes('postbote is running'));
  try {
    await eventually(ready, timeoutMs, 'all-in-one start');
  } catch (err) {
    proc.child.kill('SIGKILL'); // never leave a half-started process behind a failed test
    throw err;
  }
  if (proc.child.exitCode !== null) throw new Error(`postbote start exited ${proc.child.exitCode}: ${proc.err()}${proc.out().slice(-2000)}`);
  return proc;
}
