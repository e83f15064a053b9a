// Mailboxes and event counting shared by the smaller benchmarks.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from './corpus';

/** A Maildir with one message of about `bytes` bytes (a base64 attachment), written once. */
export function bigMaildir(root: string, bytes: number): string {
  const dir = join(root, `big-${bytes}`, 'Maildir');
  const file = join(dir, 'cur', '1700000000.M1P1.bench:2,');
  if (!existsSync(file)) {
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    const r = rng(bytes);
    const raw = Buffer.alloc(Math.floor((bytes * 3) / 4 / 1.013));
    for (let i = 0; i + 4 <= raw.length; i += 4) raw.writeUInt32LE((r.next() * 0xffffffff) >>> 0, i);
    const head = `From: big@example.test\r\nTo: support@example.test\r\nSubject: big ${bytes}\r\nMessage-ID: <big-${bytes}@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
    writeFileSync(file, Buffer.concat([Buffer.from(head), Buffer.from(raw.toString('base64').replace(/.{76}/g, '$&\r\n')), Buffer.from('\r\n--b--\r\n')]));
  }
  return dir;
}

/** Waits until `n` workflow-start events were published on the embedded default. */
export async function waitForEvents(dataDir: string, n: number, timeoutMs: number): Promise<void> {
  const Database = require('better-sqlite3') as new (file: string, o: object) => { prepare(sql: string): { get(): unknown }; close(): void };
  const deadline = Date.now() + timeoutMs;
  let db: InstanceType<typeof Database> | undefined;
  try {
    for (;;) {
      db ??= new Database(join(dataDir, 'postbote.sqlite'), { readonly: true, fileMustExist: true });
      const { c } = db.prepare('SELECT COUNT(*) AS c FROM trigger_outbox WHERE published_at IS NOT NULL').get() as { c: number };
      if (c >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${c} of ${n} events after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    db?.close();
  }
}
