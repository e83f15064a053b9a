import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { WorkerPool } from '@postbote/threads';
import type { IncomingEmail } from './incoming-email';
import { parseMetadata, type ParseOptions, type ParsedMetadata } from './parse-metadata';

/** One email to parse: its bytes (copied to the worker), or the scratch file they are in. */
export interface ParseJob {
  readonly bytes?: Uint8Array;
  readonly path?: string;
}

/**
 * Parses metadata in worker threads, so mailparser's work — a large share of storing a
 * small email — runs on other cores while the event loop receives, commits and acks.
 * With `workers` 0 it parses on the event loop (what a single-core deployment wants).
 */
export class ParsePool {
  readonly #pool: WorkerPool<ParseJob, ParsedMetadata> | undefined;

  constructor(
    workers: number,
    private readonly options: ParseOptions,
    workerDir = __dirname,
  ) {
    this.#pool = workers > 0 ? new WorkerPool({ dir: workerDir, name: 'parse-worker', size: workers, workerData: options }) : undefined;
  }

  /** Metadata of a complete email; never fails (problems are noted in the result, as parseMetadata does). */
  async parse(body: IncomingEmail): Promise<ParsedMetadata> {
    const whole = body.inMemory();
    if (this.#pool) {
      try {
        return await this.#pool.run(whole ? { bytes: whole } : { path: body.path ?? '' });
      } catch (err) {
        // A worker that died on this input: parse here instead, so the email is still stored.
        return parseMetadata(whole ? Readable.from([whole]) : createReadStream(body.path ?? ''), this.options).then((m) => ({
          ...m,
          problems: [...m.problems, `parser worker failed (${(err as Error).message}); parsed in the service instead`],
        }));
      }
    }
    return parseMetadata(whole ? Readable.from([whole]) : body.path ? createReadStream(body.path) : Readable.from([]), this.options);
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
