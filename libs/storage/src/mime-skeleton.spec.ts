import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { decodeClean, skeletonOf } from './mime-skeleton';
import type { ParsedMetadata } from '@postbote/connector-model';
import { parseMetadata, parseMetadataOf, parseSkeleton } from './parse-metadata';
import { CORPUS } from './testdata/corpus';

const options = { previewChars: 500, timeoutMs: 10_000 };
const whole = (raw: Buffer): Promise<ParsedMetadata> => parseMetadata(Readable.from([raw]), options);

/** Deterministic bytes (xorshift32), so a failure names a reproducible input. */
function noise(seed: number, n: number): Buffer {
  let x = seed || 1;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const b64 = (bytes: Buffer, eol = '\r\n') => bytes.toString('base64').replace(/.{76}/g, `$&${eol}`);
const head = ['From: =?utf-8?B?SsO8cmdlbg==?= <j@example.test>', 'To: s@example.test', 'Subject: Anhang', 'Message-ID: <m@example.test>', 'Date: Mon, 2 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0'];

function mixed(parts: string[], boundary = 'mix', eol = '\r\n'): Buffer {
  return Buffer.from([...head, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', 'preamble', ...parts.map((p) => `--${boundary}${eol}${p}`), `--${boundary}--`, 'epilogue', ''].join(eol), 'latin1');
}
const attachment = (name: string, bytes: Buffer, type = 'application/pdf', eol = '\r\n') =>
  [`Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', b64(bytes, eol)].join(eol);
const text = (s: string) => ['Content-Type: text/plain; charset=utf-8', '', s].join('\r\n');

const CASES: Record<string, Buffer> = {
  'one attachment': mixed([text('Hallo'), attachment('a.pdf', noise(1, 200_000))]),
  'two attachments and an inline image': mixed([
    text('Hallo'),
    attachment('a.pdf', noise(2, 50_000)),
    attachment('b.png', noise(3, 9_999), 'image/png'),
    ['Content-Type: image/gif', 'Content-ID: <x@y>', 'Content-Transfer-Encoding: base64', '', b64(noise(4, 8_000))].join('\r\n'),
  ]),
  'nested multipart': mixed([
    ['Content-Type: multipart/alternative; boundary=alt', '', '--alt', text('plain'), '--alt', 'Content-Type: text/html', '', '<p>html</p>', '--alt--', ''].join('\r\n'),
    attachment('n.bin', noise(5, 70_001), 'application/octet-stream'),
  ]),
  'LF line ends': mixed([text('lf'), attachment('lf.pdf', noise(6, 30_000), 'application/pdf', '\n')], 'lf', '\n'),
  'a single-part base64 message': Buffer.from([...head, 'Content-Type: application/zip', 'Content-Transfer-Encoding: base64', '', b64(noise(7, 40_000)), ''].join('\r\n'), 'latin1'),
  'a base64 text part (stays with mailparser)': mixed([['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(Buffer.from('Grüße '.repeat(3_000)))].join('\r\n')]),
  'truncated base64': mixed([attachment('t.pdf', noise(8, 30_000)).slice(0, -3)]),
  'garbage in base64': mixed([attachment('g.pdf', noise(9, 30_000)).replace('A', '!')]),
  'a look-alike delimiter inside the attachment': mixed([['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', b64(noise(10, 30_000)).replace(/\r\n/, '\r\n--mixx\r\n')].join('\r\n')]),
  'the attachment is not closed': Buffer.from([...head, 'Content-Type: multipart/mixed; boundary=open', '', '--open', attachment('o.pdf', noise(11, 30_000)), ''].join('\r\n'), 'latin1'),
  'an outer delimiter ends the inner part': mixed([['Content-Type: multipart/related; boundary=inner', '', '--inner', attachment('i.pdf', noise(12, 30_000))].join('\r\n'), text('after')]),
  'our header already in the message': mixed([`X-Postbote-Part: forged-0\r\n${attachment('f.pdf', noise(13, 30_000))}`]),
  'a message/rfc822 attachment': mixed([['Content-Type: message/rfc822', '', ...head, 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', b64(noise(14, 20_000))].join('\r\n')]),
  'boundary with trailing spaces on delimiters': Buffer.from(mixed([attachment('s.pdf', noise(15, 20_000))]).toString('latin1').replace(/--mix\r\n/g, '--mix  \r\n'), 'latin1'),
  'duplicate Content-Transfer-Encoding': mixed([attachment('x.pdf', noise(16, 20_000)).replace('Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: quoted-printable')]),
};

describe('parseMetadataOf (skeleton of large base64 parts)', () => {
  for (const [name, raw] of Object.entries({ ...CASES, ...CORPUS })) {
    it(`gives what a whole parse gives: ${name}`, async () => {
      assert.deepEqual(await parseMetadataOf(raw, options), await whole(raw));
    });
  }

  it('hashes the decoded attachment from the skeleton, as mailparser does', async () => {
    const meta = await parseSkeleton(CASES['one attachment'] ?? Buffer.alloc(0), options);
    const pdf = noise(1, 200_000);
    assert.deepEqual(
      meta?.attachments.map((a) => [a.fileName, a.size, a.sha256]),
      [['a.pdf', pdf.length, createHash('sha256').update(pdf).digest('hex')]],
    );
  });

  it('cuts the attachments it is sure of and leaves small and text parts alone', () => {
    const cut = (name: string) => skeletonOf(CASES[name] ?? Buffer.alloc(0))?.parts.length ?? 0;
    assert.equal(cut('one attachment'), 1);
    assert.equal(cut('two attachments and an inline image'), 3);
    assert.equal(cut('nested multipart'), 1);
    assert.equal(cut('a base64 text part (stays with mailparser)'), 0);
    assert.equal(cut('truncated base64'), 0);
    assert.equal(cut('garbage in base64'), 0);
    assert.equal(cut('a message/rfc822 attachment'), 0);
  });

  it('uses the skeleton when mailparser confirms the cuts, the whole message when it does not', async () => {
    const used = async (name: string) => (await parseSkeleton(CASES[name] ?? Buffer.alloc(0), options)) !== undefined;
    for (const name of ['one attachment', 'two attachments and an inline image', 'nested multipart', 'LF line ends', 'a single-part base64 message', 'boundary with trailing spaces on delimiters'])
      assert.equal(await used(name), true, name);
    for (const name of ['our header already in the message', 'a look-alike delimiter inside the attachment', 'an outer delimiter ends the inner part'])
      assert.equal(await used(name), false, name);
  });

  it('stays equal to a whole parse when bytes are cut, doubled or replaced anywhere', async () => {
    const base = CASES['two attachments and an inline image'] ?? Buffer.alloc(0);
    const r = noise(99, 4 * 200);
    const inserts = ['\r\n', '--mix\r\n', '--mix--\r\n', '\r\n\r\n', '-', '=', 'Content-Type: text/plain\r\n', 'Content-Transfer-Encoding: 7bit\r\n'];
    for (let i = 0; i < 200; i++) {
      const at = r.readUInt32LE(i * 4) % base.length;
      const kind = i % 3;
      const piece = Buffer.from(inserts[i % inserts.length] ?? '', 'latin1');
      const raw =
        kind === 0 ? Buffer.concat([base.subarray(0, at), base.subarray(Math.min(base.length, at + 1 + (i % 300)))]) : kind === 1 ? Buffer.concat([base.subarray(0, at), piece, base.subarray(at)]) : Buffer.concat([base.subarray(0, at), base.subarray(at, at + 40), base.subarray(at)]);
      assert.deepEqual(await parseMetadataOf(raw, options), await whole(raw), `mutation ${i} (kind ${kind} at ${at})`);
    }
  });

  it('decodes clean base64 as the rules say and refuses the rest, whatever the line layout (fast lane and loop agree)', () => {
    // The rules written as plainly as possible: alphabet and whitespace only, whole quanta,
    // padding only at the very end.
    const byRules = (body: Buffer) => {
      const text = body.toString('latin1');
      if (/[^A-Za-z0-9+/=\r\n \t]/.test(text)) return undefined;
      const compact = text.replace(/[\r\n \t]/g, '');
      if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) return undefined;
      const bytes = Buffer.from(compact, 'base64');
      return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    };
    const r = noise(5, 20_000 * 8);
    let clean = 0;
    for (let t = 0; t < 20_000; t++) {
      const raw = noise(t + 1, r.readUInt16LE(t * 8) % 60);
      const lineLength = [0, 4, 8, 76, 3][r.readUInt8(t * 8 + 2) % 5] ?? 0;
      const text = raw.toString('base64');
      const laid = lineLength ? text.replace(new RegExp(`.{${lineLength}}`, 'g'), `$&${r.readUInt8(t * 8 + 3) % 4 === 0 ? '\n' : '\r\n'}`) : text;
      const bytes = Buffer.from(laid, 'latin1');
      const at = r.readUInt16LE(t * 8 + 4) % (bytes.length + 1);
      const piece = ['', '\r\n', ' ', '\t', '=', '==', '-', 'A', '\n'][r.readUInt8(t * 8 + 6) % 9] ?? '';
      const body = Buffer.concat([bytes.subarray(0, at), Buffer.from(piece, 'latin1'), bytes.subarray(at)]);
      const got = decodeClean(body);
      if (got) clean++;
      assert.deepEqual(got, byRules(body), JSON.stringify(body.toString('latin1')));
    }
    assert.ok(clean > 5_000, `only ${clean} clean bodies: the test would not exercise decoding`);
  });
});
