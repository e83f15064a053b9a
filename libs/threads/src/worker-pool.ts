import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, parentPort, type Transferable } from 'node:worker_threads';

/**
 * Starts the worker script `<name>.js` next to the running code — in a bundle, the file
 * tools/build.mjs writes beside main.js — or, when running from source (tests, tsx), the
 * `<name>.ts` in `dir`, loaded through tsx's CommonJS hook (a worker does not inherit the
 * main thread's `--import tsx`). The worker finds its name in `process.argv[1]`, where
 * diagnostics can tell one kind of worker from another (the drain benchmark's thread labels).
 */
export function spawnWorker(dir: string, name: string, workerData: unknown): Worker {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return new Worker(js, { workerData, argv: [name] });
  const ts = join(dir, `${name}.ts`);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(ts)});`, { eval: true, workerData, argv: [name] });
}

/** What a worker says went wrong; `code` carries a driver's error code (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export class WorkerJobError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

type Reply<Res> = { readonly id: number; readonly ok: true; readonly res: Res } | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string };

interface Slot<Res> {
  worker: Worker;
  readonly inflight: Map<number, { resolve(r: Res): void; reject(e: unknown): void }>;
}

export interface WorkerPoolOptions {
  /** Folder of the worker script (the caller's `__dirname`). */
  readonly dir: string;
  /** Script name without extension. */
  readonly name: string;
  readonly size: number;
  readonly workerData?: unknown;
}

/**
 * Jobs for worker threads, each answered by id; a job goes to the worker with the fewest
 * in flight. A worker that dies fails its jobs (never silently) and is replaced, so one
 * bad input cannot take the pool down. Only a worker with jobs in flight keeps the process
 * alive; an idle pool never does.
 */
export class WorkerPool<Req, Res> {
  readonly #slots: Array<Slot<Res>> = [];
  #seq = 0;
  #closed = false;

  constructor(private readonly options: WorkerPoolOptions) {
    for (let i = 0; i < Math.max(1, options.size); i++) this.#slots.push(this.#spawn());
  }

  get size(): number {
    return this.#slots.length;
  }

  run(req: Req, transfer: readonly Transferable[] = []): Promise<Res> {
    if (this.#closed) return Promise.reject(new Error(`the ${this.options.name} pool is closed`));
    const slot = this.#slots.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
    const id = ++this.#seq;
    return new Promise<Res>((resolve, reject) => {
      // Busy workers keep the process alive; idle ones do not (see #settled).
      if (slot.inflight.size === 0) slot.worker.ref();
      slot.inflight.set(id, { resolve, reject });
      slot.worker.postMessage({ id, req }, [...transfer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(): Slot<Res> {
    const slot: Slot<Res> = { worker: spawnWorker(this.options.dir, this.options.name, this.options.workerData), inflight: new Map() };
    this.#wire(slot);
    return slot;
  }

  #wire(slot: Slot<Res>): void {
    const w = slot.worker;
    w.unref();
    w.on('message', (m: Reply<Res>) => {
      const job = slot.inflight.get(m.id);
      if (!job) return;
      slot.inflight.delete(m.id);
      if (slot.inflight.size === 0) w.unref();
      if (m.ok) job.resolve(m.res);
      else job.reject(new WorkerJobError(m.message, m.code));
    });
    const died = (why: string) => {
      for (const job of slot.inflight.values()) job.reject(new WorkerJobError(`the ${this.options.name} worker ${why}`, 'WORKER_DIED'));
      slot.inflight.clear();
      if (!this.#closed) {
        slot.worker = spawnWorker(this.options.dir, this.options.name, this.options.workerData);
        this.#wire(slot);
      }
    };
    w.on('error', (err) => died(`failed: ${err.message}`));
    w.on('exit', (code) => {
      if (slot.worker === w) died(`exited (${code})`);
    });
  }
}

/** The worker side: answers each job with `handle`'s result or its error. */
export function serveJobs<Req, Res>(handle: (req: Req) => Promise<Res> | Res, transferOf: (res: Res) => Transferable[] = () => []): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs runs in a worker thread');
  port.on('message', ({ id, req }: { id: number; req: Req }) => {
    Promise.resolve()
      .then(() => handle(req))
      .then(
        (res) => port.postMessage({ id, ok: true, res }, transferOf(res)),
        (err: unknown) => {
          const e = err as { message?: string; code?: unknown };
          port.postMessage({ id, ok: false, message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined });
        },
      );
  });
}
