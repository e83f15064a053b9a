import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { WorkerPool } from '@postbote/threads';
import type { IncomingEmail } from './incoming-email';
import type { ParsedMetadata } from '@postbote/connector-model';
import { parseMetadata, parseMetadataOf, type ParseOptions } from './parse-metadata';

/** One email to parse: its bytes (copied to the worker), or the scratch file they are in. */
export interface ParseJob {
  readonly bytes?: Uint8Array;
  readonly path?: string;
}

/**
 * A spilled email up to this size is read whole for parsing (its base64 attachments then
 * decode natively, see `parseMetadataOf`); a larger one streams through mailparser, so a
 * 50 MB message never sits in memory.
 */
const WHOLE_FILE_BYTES = 16 * 1024 * 1024;

/** Parses one job where it runs (a worker thread, or the service when there are no workers). */
export async function parseJob(job: ParseJob, options: ParseOptions): Promise<ParsedMetadata> {
  if (job.bytes) return parseMetadataOf(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), options);
  const path = job.path;
  if (!path) return parseMetadata(Readable.from([]), options);
  const size = await stat(path).then(
    (s) => s.size,
    () => Infinity,
  );
  if (size <= WHOLE_FILE_BYTES) return parseMetadataOf(await readFile(path), options);
  return parseMetadata(createReadStream(path), options);
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
    const job: ParseJob = whole ? { bytes: whole } : { path: body.path ?? '' };
    if (this.#pool) {
      try {
        return await this.#pool.run(job);
      } catch (err) {
        // A worker that died on this input: parse here instead, so the email is still stored.
        return parseJob(job, this.options).then((m) => ({
          ...m,
          problems: [...m.problems, `parser worker failed (${(err as Error).message}); parsed in the service instead`],
        }));
      }
    }
    return parseJob(job, this.options);
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }
}
