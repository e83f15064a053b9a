// A worker for the pool's own tests: echoes, fails with a code, or dies.
import { threadId } from 'node:worker_threads';
import { serveJobs } from './worker-pool';

serveJobs((req: { echo?: string; fail?: string; die?: boolean }) => {
  if (req.die) process.exit(3);
  if (req.fail) throw Object.assign(new Error(req.fail), { code: 'E_TEST' });
  return { echo: req.echo, thread: threadId };
});
