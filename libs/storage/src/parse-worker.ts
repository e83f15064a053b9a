// Worker thread: parses emails' metadata (mailparser) off the storage service's event loop.
import { workerData } from 'node:worker_threads';
import { serveJobs } from '@postbote/threads';
import { parseJob, type ParseJob } from './parse-pool';
import type { ParseOptions } from './parse-metadata';

const options = workerData as ParseOptions;

serveJobs((job: ParseJob) => parseJob(job, options));
