import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IncomingEmail, SPOOL_SUFFIX, sweepSpool } from './incoming-email';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const dir = () => mkdtempSync(join(tmpdir(), 'pb-incoming-'));

async function collect(e: IncomingEmail, piece: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of e.read(piece)) parts.push(p);
  return Buffer.concat(parts);
}

describe('IncomingEmail', () => {
  it('keeps a small email in memory, hashed as it arrives', async () => {
    const spool = dir();
    const e = new IncomingEmail({ spoolDir: spool, memoryBytes: 1024, maxBytes: 10_000 });
    const bytes = Buffer.from('Subject: x\r\n\r\nhello\r\n');
    await e.append(bytes.subarray(0, 5));
    await e.append(bytes.subarray(5));
    assert.equal(e.finish(), sha(bytes));
    assert.ok(e.inMemory()?.equals(bytes));
    assert.equal(e.memoryBytes, bytes.length);
    assert.deepEqual(readdirSync(spool), []);
  });

  it("takes the sender's SHA-256 without measuring when told the sender's is the bytes' own, and no SHA-256 at all as none", async () => {
    const limits = { spoolDir: dir(), memoryBytes: 1024, maxBytes: 10_000 };
    const bytes = Buffer.from('Subject: x\r\n\r\nhello\r\n');
    const claimed = 'AB'.repeat(32);
    const taken = new IncomingEmail(limits, 'sender');
    await taken.append(bytes);
    assert.equal(taken.finish(claimed), claimed.toLowerCase());
    assert.ok(taken.inMemory()?.equals(bytes));
    const junk = new IncomingEmail(limits, 'sender');
    await junk.append(bytes);
    assert.equal(junk.finish('not a hash'), '');
    const measured = new IncomingEmail(limits);
    await measured.append(bytes);
    assert.equal(measured.finish(claimed), sha(bytes));
  });

  it('hands the threads shared memory: emails cut one after the other from a slab never overlap, a large one gets its own', async () => {
    const limits = { spoolDir: dir(), memoryBytes: 1 << 20, maxBytes: 1 << 20 };
    const emails = await Promise.all(
      [300, 7, 5000, 200 * 1024, 64].map(async (size, i) => {
        const e = new IncomingEmail(limits);
        const bytes = Buffer.alloc(size, i + 1);
        await e.append(bytes.subarray(0, 3));
        await e.append(bytes.subarray(3));
        return { e, bytes, whole: e.inMemory() };
      }),
    );
    for (const { bytes, whole } of emails) {
      assert.ok(whole?.buffer instanceof SharedArrayBuffer);
      assert.ok(whole.equals(bytes), `an email of ${bytes.length} bytes reads back as it came`);
    }
    assert.equal(emails[3]?.whole?.buffer.byteLength, 200 * 1024);
    assert.equal(emails[0]?.whole?.buffer, emails[1]?.whole?.buffer);
  });

  it('spills past the memory limit to a 0600 scratch file, reads back the same bytes, and removes the file', async () => {
    const spool = join(dir(), 'spool');
    const e = new IncomingEmail({ spoolDir: spool, memoryBytes: 1000, maxBytes: 1_000_000 });
    const bytes = Buffer.alloc(5000, 7);
    for (let off = 0; off < bytes.length; off += 700) await e.append(bytes.subarray(off, off + 700));
    await e.seal();
    assert.equal(e.inMemory(), undefined);
    assert.equal(e.memoryBytes, 0);
    assert.ok((await collect(e, 1024)).equals(bytes));
    const path = e.path ?? '';
    assert.ok(path.endsWith(SPOOL_SUFFIX) && existsSync(path));
    await e.discard();
    assert.equal(existsSync(path), false);
  });

  it('drops the bytes of an email over the size limit and says so', async () => {
    const e = new IncomingEmail({ spoolDir: dir(), memoryBytes: 100, maxBytes: 1000 });
    await e.append(Buffer.alloc(600));
    await e.append(Buffer.alloc(600));
    assert.equal(e.tooLarge, true);
    assert.equal(e.size, 1200);
    assert.equal(e.inMemory(), undefined);
  });

  it('sweeps only its own leftovers', async () => {
    const spool = dir();
    writeFileSync(join(spool, `a${SPOOL_SUFFIX}`), 'x');
    writeFileSync(join(spool, 'other.txt'), 'x');
    mkdirSync(join(spool, 'sub'));
    assert.equal(await sweepSpool(spool), 1);
    assert.deepEqual(readdirSync(spool).sort(), ['other.txt', 'sub']);
    assert.equal(await sweepSpool(join(spool, 'missing')), 0);
  });
});
