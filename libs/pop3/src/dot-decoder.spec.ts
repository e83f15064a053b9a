import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DotDecoder } from './dot-decoder';

/** What a POP3 server sends for `message`: dot-stuffed lines, then the lone "." line. */
function stuffed(message: Buffer): Buffer {
  const text = message.toString('latin1');
  const body = text.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(`${body}${body.endsWith('\r\n') || body === '' ? '' : '\r\n'}.\r\n`, 'latin1');
}

/** Feeds `wire` in pieces of the given sizes; returns the message and what followed. */
function decode(wire: Buffer, sizes: () => number): { message: Buffer; rest: Buffer } {
  const d = new DotDecoder();
  const parts: Buffer[] = [];
  for (let off = 0; off < wire.length; ) {
    const n = Math.max(1, sizes());
    const step = d.push(wire.subarray(off, off + n));
    parts.push(...step.parts);
    off += n;
    if (step.done) return { message: Buffer.concat(parts), rest: Buffer.concat([step.rest, wire.subarray(off)]) };
  }
  throw new Error('no terminator');
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

const samples: Array<[string, Buffer]> = [
  ['plain lines', Buffer.from('Subject: a\r\n\r\nhello\r\nworld\r\n', 'latin1')],
  ['lines starting with dots', Buffer.from('Subject: d\r\n\r\n.one\r\n..two\r\n.\r\n. \r\n...\r\nend\r\n', 'latin1')],
  ['a dot line first', Buffer.from('.first\r\nrest\r\n', 'latin1')],
  ['empty message', Buffer.alloc(0)],
  ['a 200 KB line', Buffer.from(`Subject: long\r\n\r\n${'x'.repeat(200_000)}\r\n.${'y'.repeat(70_000)}\r\n`, 'latin1')],
  ['8-bit and lone CR/LF', Buffer.concat([Buffer.from('S: x\r\n\r\n'), Buffer.from([0xff, 0x0d, 0x2e, 0x0a, 0x2e, 0x80, 0x0d, 0x0a])])],
];

describe('DotDecoder (POP3 multi-line bodies in bulk)', () => {
  for (const [name, message] of samples) {
    it(`${name}: the same bytes however the input is split`, () => {
      const wire = Buffer.concat([stuffed(message), Buffer.from('+OK next reply\r\n')]);
      const expected = message.length === 0 || message.subarray(-2).toString() === '\r\n' ? message : Buffer.concat([message, Buffer.from('\r\n')]);
      const splits: Array<[string, () => number]> = [
        ['whole', () => wire.length],
        ['byte by byte', () => 1],
        ['2 bytes', () => 2],
        ['3 bytes', () => 3],
        ['random', (() => { const r = rng(name.length); return () => 1 + Math.floor(r() * 9000); })()],
      ];
      for (const [how, sizes] of splits) {
        const { message: got, rest } = decode(wire, sizes);
        assert.ok(got.equals(expected), `${how}: decoded bytes differ`);
        assert.equal(rest.toString(), '+OK next reply\r\n', `${how}: what follows the terminator stays`);
      }
    });
  }

  it('does not end at a dot that only looks like the terminator', () => {
    const d = new DotDecoder();
    const first = d.push(Buffer.from('a\r\n.x\r\n..\r\n'));
    assert.equal(first.done, false);
    const second = d.push(Buffer.from('.\r\n'));
    assert.equal(second.done, true);
    assert.equal(Buffer.concat([...first.parts, ...second.parts]).toString(), 'a\r\nx\r\n.\r\n');
  });
});
