import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, renderMetrics } from './metrics';

/** A dependency check for `/readyz`: resolves when the dependency answers, rejects saying why not. */
export type ReadinessCheck = () => Promise<void>;

const checks = new Map<string, ReadinessCheck>();

/** Registers (or replaces) a named dependency check; the returned function removes it. */
export function addReadinessCheck(name: string, check: ReadinessCheck): () => void {
  checks.set(name, check);
  return () => {
    if (checks.get(name) === check) checks.delete(name);
  };
}

export interface Readiness {
  readonly ready: boolean;
  /** Each check: "ok", or what went wrong. */
  readonly checks: Record<string, string>;
}

/** Runs every check at once, each bounded by `timeoutMs`. */
export async function readiness(timeoutMs = 3_000): Promise<Readiness> {
  const entries = await Promise.all(
    [...checks].map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, (err as Error).message || String(err)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: entries.every(([, v]) => v === 'ok'), checks: Object.fromEntries(entries) };
}

/** Repeats `fn` every `ms` until the returned function is called (the injectable timer). */
export type Every = (ms: number, fn: () => void) => () => void;

const systemEvery: Every = (ms, fn) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

type ReadinessListener = (r: Readiness, before: boolean | undefined) => void;
const watchers = new Set<ReadinessListener>();
let stopWatching: (() => void) | undefined;
let lastReady: boolean | undefined;
let lastReport: Readiness | undefined;
let failedInARow = 0;

/**
 * Evaluations that must fail in a row before listeners hear "not ready": one slow answer
 * on a busy host (a check times out at 3 s) must not flap a service out of its load balancer.
 */
const FAILURES_TO_NOT_READY = 2;

/**
 * Calls `listener` whenever readiness changes (and once at the first evaluation), from one
 * evaluation loop shared by every listener of the process: the gRPC servers set their health
 * status from it, so a dependency that goes away turns them NOT_SERVING.
 */
export function onReadinessChange(listener: ReadinessListener, everyMs = 5_000, every: Every = systemEvery): () => void {
  watchers.add(listener);
  if (!stopWatching) {
    lastReady = undefined;
    failedInARow = 0;
    stopWatching = every(everyMs, () => void evaluateReadiness());
  } else if (lastReady === false && lastReport) listener(lastReport, undefined);
  return () => {
    watchers.delete(listener);
    if (watchers.size === 0) {
      stopWatching?.();
      stopWatching = undefined;
    }
  };
}

let evaluating: Promise<void> | undefined;

/** One evaluation for the listeners (what the loop runs; tests call it to skip the wait). */
export function evaluateReadiness(): Promise<void> {
  evaluating ??= readiness()
    .then((r) => {
      lastReport = r;
      failedInARow = r.ready ? 0 : failedInARow + 1;
      if (!r.ready && failedInARow < FAILURES_TO_NOT_READY) return;
      if (r.ready === lastReady) return;
      const before = lastReady;
      lastReady = r.ready;
      for (const w of watchers) w(r, before);
    })
    .finally(() => {
      evaluating = undefined;
    });
  return evaluating;
}

export interface EndpointOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token `/metrics` requires; undefined = none (loopback only, checked by the caller). */
  readonly token?: string;
}

export interface Endpoint {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The operators' HTTP endpoint beside the gRPC API: `/metrics` (Prometheus text format),
 * `/healthz` (the process answers) and `/readyz` (its dependencies answer: 503 naming the
 * failing one). Health and readiness say nothing a stranger could use; metrics carry
 * connector ids and volumes, so beyond loopback they need the bearer token.
 */
export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  collectProcessMetrics();
  const expected = options.token === undefined ? undefined : digest(options.token);
  const server = createServer((req, res) => {
    handle(req, res, expected).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, token: Buffer | undefined): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/healthz') return reply(res, 200, 'text/plain', 'ok\n');
  if (path === '/readyz') {
    const r = await readiness();
    return reply(res, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(r)}\n`);
  }
  if (path === '/metrics') {
    if (token && !authorized(req.headers.authorization, token)) return reply(res, 401, 'text/plain', 'bearer token required\n', { 'www-authenticate': 'Bearer' });
    return reply(res, 200, 'text/plain; version=0.0.4; charset=utf-8', await renderMetrics());
  }
  return reply(res, 404, 'text/plain', 'not found: /metrics, /healthz, /readyz\n');
}

function reply(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1] !== undefined && timingSafeEqual(digest(m[1]), expected);
}
