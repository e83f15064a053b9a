// Memory: peak RSS of the all-in-one while a 50 MB message, and while 20 concurrent 5 MB
// messages, pass through fetch → storage → event, above its idle RSS.
//   npx tsx bench/memory.bench.ts
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DOVECOT, REPO_ROOT } from '@postbote/testing';
import { cloneMaildir } from './corpus';
import { bigMaildir, waitForEvents } from './fixtures';
import { createConnector, dovecotSpec, fmt, memoryMiB, resetPeak, startPostbote, table } from './harness';

async function peakAbove(bytes: number, mailboxes: number): Promise<{ idle: number; peak: number; seconds: number }> {
  const corpus = bigMaildir(join(REPO_ROOT, '.cache', 'bench'), bytes);
  const pb = await startPostbote();
  try {
    const pid = pb.proc.child.pid ?? 0;
    await new Promise((r) => setTimeout(r, 3_000)); // settle after start
    const idle = memoryMiB(pid).rss;
    resetPeak(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryMiB(pid).rss)), 20);
    const users = Array.from({ length: mailboxes }, () => {
      const u = `bench-mem-${randomBytes(4).toString('hex')}`;
      cloneMaildir(corpus, DOVECOT.home, u);
      return u;
    });
    const t0 = Date.now();
    await Promise.all(users.map((u, i) => createConnector(pb, dovecotSpec(`mem-${i}`, 'IMAP', u, { pollIntervalSeconds: 3600 }))));
    await waitForEvents(pb.dataDir, mailboxes, 300_000);
    clearInterval(sampler);
    return { idle, peak: Math.max(peak, memoryMiB(pid).peak), seconds: (Date.now() - t0) / 1000 };
  } finally {
    await pb.stop();
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const [label, bytes, n] of [
    ['one 50 MB message', 50 * 1000 * 1000, 1],
    ['20 concurrent 5 MB messages', 5 * 1000 * 1000, 20],
  ] as const) {
    const r = await peakAbove(bytes, n);
    rows.push([label, `${fmt(r.idle)} MiB`, `${fmt(r.peak)} MiB`, `${fmt(r.peak - r.idle)} MiB`, `${fmt(r.seconds, 1)} s`]);
    process.stderr.write(`${label}: +${fmt(r.peak - r.idle)} MiB\n`);
  }
  process.stdout.write(`Peak RSS of the all-in-one (embedded default, IMAPS), ${new Date().toISOString()}\n\n${table(['case', 'idle RSS', 'peak RSS', 'peak − idle', 'to last event'], rows)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
