// Where a run's CPU went, from /proc: Postbote's event loop (its main thread) and its other
// threads (metadata parser, SQLite writer, V8's garbage collection and compiler helpers,
// libuv), and the servers on the same cores (Dovecot, MariaDB, Kafka, S3Proxy). On a machine where
// all of them share two cores, their sum per email bounds the rate any client can reach.
import { readFileSync, readdirSync } from 'node:fs';
import { procTimes } from './harness';

export interface CpuSplit {
  /** Postbote's main thread (zero for the references). */
  readonly loop: number;
  /** Postbote's other threads: the two below, V8's helpers (GC, compiler) and libuv's. */
  readonly threads: number;
  /** Of `threads`: the metadata parser(s) and the SQLite writer, when labelled (thread-label.cjs). */
  readonly parser: number;
  readonly writer: number;
  readonly dovecot: number;
  readonly mariadb: number;
  readonly kafka: number;
  /** The object store (S3Proxy), with MAIL_BLOBS_URL. */
  readonly s3: number;
}


function times(path: string): { own: number; reaped: number } | undefined {
  try {
    return procTimes(path);
  } catch {
    return undefined; // gone meanwhile
  }
}

function processes(): Array<{ pid: number; ppid: number; comm: string; cmdline: string }> {
  const out: Array<{ pid: number; ppid: number; comm: string; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = comm === 'java' ? readFileSync(`/proc/${name}/cmdline`, 'utf8') : '';
      out.push({ pid: Number(name), ppid, comm, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The label a worker thread left in `dir` (thread-label.cjs), if any. */
function labelOf(dir: string | undefined, tid: string): string {
  if (!dir) return '';
  try {
    return readFileSync(`${dir}/${tid}`, 'utf8');
  } catch {
    return '';
  }
}

/** CPU seconds so far: of `postbote`'s threads (when given; workers labelled in `labels`) and of the test servers. */
export function cpuNow(postbote?: number, labels?: string): CpuSplit {
  let loop = 0;
  let threads = 0;
  let parser = 0;
  let writer = 0;
  if (postbote) {
    for (const tid of readdirSync(`/proc/${postbote}/task`)) {
      const t = times(`/proc/${postbote}/task/${tid}/stat`)?.own ?? 0;
      if (Number(tid) === postbote) {
        loop += t;
        continue;
      }
      threads += t;
      const label = labelOf(labels, tid);
      if (label === 'parse-worker') parser += t;
      else if (label === 'sqlite-writer') writer += t;
    }
  }
  const all = processes();
  // Dovecot: the master with the children it reaped, plus the children still running (a
  // session's imap or pop3 process ends at logout and moves into the master's reaped time).
  let dovecot = 0;
  for (const master of all.filter((p) => p.comm === 'dovecot')) {
    const m = times(`/proc/${master.pid}/stat`);
    dovecot += (m?.own ?? 0) + (m?.reaped ?? 0);
    for (const child of all.filter((p) => p.ppid === master.pid)) dovecot += times(`/proc/${child.pid}/stat`)?.own ?? 0;
  }
  const sum = (pred: (p: { comm: string; cmdline: string }) => boolean) => all.filter(pred).reduce((a, p) => a + (times(`/proc/${p.pid}/stat`)?.own ?? 0), 0);
  return { loop, threads, parser, writer, dovecot, mariadb: sum((p) => p.comm === 'mariadbd' || p.comm === 'mysqld'), kafka: sum((p) => p.cmdline.includes('kafka.Kafka')), s3: sum((p) => p.cmdline.includes('org.gaul.s3proxy')) };
}

export function cpuSince(before: CpuSplit, after: CpuSplit): CpuSplit {
  const d = (k: keyof CpuSplit) => after[k] - before[k];
  return { loop: d('loop'), threads: d('threads'), parser: d('parser'), writer: d('writer'), dovecot: d('dovecot'), mariadb: d('mariadb'), kafka: d('kafka'), s3: d('s3') };
}
