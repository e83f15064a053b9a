// Worker thread: parses emails' metadata (mailparser) off the storage service's event loop.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { workerData } from 'node:worker_threads';
import { serveJobs } from '@postbote/threads';
import { parseMetadata, type ParseOptions } from './parse-metadata';
import type { ParseJob } from './parse-pool';

const options = workerData as ParseOptions;

serveJobs((job: ParseJob) => parseMetadata(job.bytes ? Readable.from([Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength)]) : createReadStream(job.path ?? ''), options));
