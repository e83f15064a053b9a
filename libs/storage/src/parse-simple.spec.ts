import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ParsedMetadata } from '@postbote/connector-model';
import { parseMetadata, parseMetadataOf } from './parse-metadata';
import { parseSimple } from './parse-simple';
import { REPO_ROOT } from '@postbote/testing';
import { CORPUS } from './testdata/corpus';

const options = { previewChars: 300, timeoutMs: 10_000 };
const mailparser = (raw: Buffer): Promise<ParsedMetadata> => parseMetadata(Readable.from([raw]), options);
const msg = (lines: string[], eol = '\r\n') => Buffer.from(lines.join(eol), 'utf8');

const HEAD = [
  'Return-Path: <j@example.test>',
  'Received: from mx.example.test by mail.example.test;',
  '\tMon, 2 Nov 2026 10:00:00 +0000',
  'From: =?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <j@example.test>',
  'To: "Support, Team" <support@example.test>, Ann <ann@example.test>,',
  ' bob@example.test',
  'Cc: Friends: c@example.test, d@example.test;, =?iso-8859-1?Q?J=F6rg?= <jo@example.test>',
  'Reply-To: replies@example.test',
  'Subject: =?utf-8?Q?St=C3=B6rung?= im =?utf-8?B?TmV0eg==?=',
  ' folded',
  'Message-ID: <m1@example.test>',
  'In-Reply-To: <parent@example.test>',
  'References: <a@example.test>',
  '  <b@example.test> <c@example.test>',
  'Date: Mon, 2 Nov 2026 10:00:00 +0100',
  'MIME-Version: 1.0',
];
const UTF8_HEAD = ['From: "Jürgen Müller" <j@example.test>', 'To: support@example.test', 'Subject: Grüße aus Köln 日本語', 'Message-ID: <m2@example.test>', 'Date: Tue, 3 Nov 2026 08:00:00 +0000'];
const TEXT = 'Hallo Welt,\r\nStörung im Netz ✓.\r\n\r\n-- \r\nJürgen\r\n';
const HTML = '<html><body><p>Hallo <b>Welt</b></p>\r\n<p>Störung</p></body></html>\r\n';
const alt = (parts: string[], boundary = 'b1', tail = '--\r\n') => msg([...HEAD, `Content-Type: multipart/alternative; boundary="${boundary}"`, '', ...parts.map((p) => `--${boundary}\r\n${p}`), `--${boundary}${tail}`]);
const part = (type: string, body: string, extra: string[] = []) => [`Content-Type: ${type}`, ...extra, '', body].join('\r\n');

const PDF = Buffer.from('%PDF-1.4 fake document with bytes \u0000\u0001\u00ff '.repeat(300), 'latin1');
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
const mixed = (parts: string[], boundary = 'm1') => msg([...HEAD, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', 'preamble', ...parts.map((p) => `--${boundary}\r\n${p}`), `--${boundary}--`, '']);
const attached = (type: string, name: string | null, body: string, extra: string[] = ['Content-Transfer-Encoding: base64']) =>
  [`Content-Type: ${type}${name ? `; name="${name}"` : ''}`, ...(name ? [`Content-Disposition: attachment; filename="${name}"`] : []), ...extra, '', body].join('\r\n');

/** Shapes the fast path must take; each must give exactly mailparser's metadata. */
const TAKEN: Record<string, Buffer> = {
  'text, encoded words, groups, folding': msg([...HEAD, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', TEXT]),
  'text, raw UTF-8 headers': msg([...UTF8_HEAD, 'Content-Type: text/plain; charset="UTF-8"', '', TEXT]),
  'no Content-Type at all': msg([...HEAD, '', 'plain ascii body']),
  'us-ascii, 7bit, no final line break': msg([...HEAD, 'Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit', '', 'no newline at the end']),
  'empty body': msg([...HEAD, 'Content-Type: text/plain', '', '']),
  'LF and CR CR LF inside the body': Buffer.from(`${HEAD.join('\r\n')}\r\n\r\nline one\nline two\r\r\nline three\r\n\r\n\r\n`, 'utf8'),
  'a body line that looks like a delimiter': msg([...HEAD, 'Content-Type: text/plain', '', '--b1', '--b1--', 'end']),
  'lone HTML part': msg([...HEAD, 'Content-Type: text/html; charset=utf-8', '', HTML]),
  'no Date, no Message-ID, no From': msg(['To: x@example.test', 'Subject: bare', '', 'body']),
  'invalid Date, Message-ID without brackets': msg(['From: a@example.test', 'Date: yesterday-ish', 'Message-ID: naked@example.test', 'Subject: odd', '', 'body']),
  'text longer than the preview': msg([...HEAD, 'Content-Type: text/plain; charset=utf-8', '', 'Grüße '.repeat(200)]),
  'alternative: text and HTML': alt([part('text/plain; charset=utf-8', TEXT), part('text/html; charset=utf-8', HTML)]),
  'alternative: preamble and epilogue': msg([...HEAD, 'Content-Type: multipart/alternative; boundary=b2', '', 'This is a MIME message.', '--b2', part('text/plain', 'first'), '--b2', part('text/html', '<p>second</p>'), '--b2--', 'epilogue text', '']),
  'alternative: closing delimiter at the very end': alt([part('text/plain', 'only text')], 'b3', '--'),
  'alternative: blank lines before a delimiter': alt([part('text/plain', 'text\r\n\r\n'), part('text/html', '<p>x</p>\r\n\r\n')]),
  'alternative: HTML only': alt([part('text/html', HTML)]),
  'mixed: text and a PDF': mixed([part('text/plain; charset=utf-8', TEXT), attached('application/pdf', 'Rechnung 2026.pdf', b64(PDF))]),
  'mixed: alternative and two attachments': mixed([
    ['Content-Type: multipart/alternative; boundary="a1"', '', '--a1', part('text/plain', 'plain'), '--a1', part('text/html', '<p>html</p>'), '--a1--', ''].join('\r\n'),
    attached('application/octet-stream', 'scan.png', b64(PDF.subarray(0, 999))),
    ['Content-Type: image/gif', 'Content-ID: <logo@x>', 'Content-Disposition: inline', 'Content-Transfer-Encoding: base64', '', b64(PDF.subarray(7, 500))].join('\r\n'),
  ]),
  'mixed: encoded file names': mixed([
    part('text/plain', 'see attached'),
    ['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe%20aus%20K%C3%B6ln.pdf", 'Content-Transfer-Encoding: base64', '', b64(PDF.subarray(0, 100))].join('\r\n'),
    attached('application/zip', '=?utf-8?B?w6TDtsO8LnppcA==?=', b64(PDF.subarray(3, 50))),
  ]),
  'mixed: 7bit attachment, no file name': mixed([part('text/plain', 'x'), attached('application/json', null, '{"a": 1}\r\n', [])]),
  'mixed: text and HTML side by side': mixed([part('text/plain', 'text part'), part('text/html', '<p>html part</p>')]),
  'mixed: only an attachment': mixed([attached('application/pdf', 'a.pdf', b64(PDF))]),
  'alternative: three parts, raw UTF-8 headers': msg([...UTF8_HEAD, 'Content-Type: multipart/alternative; boundary="=_x"', '', '--=_x', part('text/plain', 'a'), '--=_x', part('text/plain', 'b'), '--=_x', part('text/html', '<p>c</p>'), '--=_x--', '']),
};

/** Shapes the fast path must leave to mailparser (the answer is still mailparser's). */
const DECLINED: Record<string, Buffer> = {
  'quoted-printable': msg([...HEAD, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'St=C3=B6rung=\r\n im Netz']),
  base64: msg([...HEAD, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', Buffer.from(TEXT).toString('base64')]),
  'ISO-8859-1': Buffer.concat([msg([...HEAD, 'Content-Type: text/plain; charset=iso-8859-1', '', '']), Buffer.from('St\xf6rung\r\n', 'latin1')]),
  'format=flowed': msg([...HEAD, 'Content-Type: text/plain; charset=utf-8; format=flowed', '', 'soft \r\nbreak']),
  'inline disposition': msg([...HEAD, 'Content-Type: text/plain', 'Content-Disposition: inline', '', 'x']),
  'attachment disposition': msg([...HEAD, 'Content-Type: text/plain', 'Content-Disposition: attachment; filename="a.txt"', '', 'x']),
  'a boundary parameter on a text part': msg([...HEAD, 'Content-Type: text/plain; boundary=b1', '', 'x', '--b1', 'Content-Type: text/html', '', '<p>y</p>', '--b1--']),
  'an empty first line (no headers at all)': msg(['', ...HEAD, '', 'body']),
  'LF-only header lines': msg([...HEAD, 'Content-Type: text/plain', '', 'body'], '\n'),
  'mbox From line': msg(['From j@example.test Mon Nov  2 10:00:00 2026', ...HEAD, '', 'body']),
  'alternative: delimiter with trailing space': alt([part('text/plain', 'a'), part('text/html', 'b')], 'b1', '-- \r\n'),
  'alternative: delimiter after a lone LF': msg([...HEAD, 'Content-Type: multipart/alternative; boundary=b1', '', '--b1', 'Content-Type: text/plain', '', 'a\n--b1', 'Content-Type: text/html', '', 'b', '--b1--']),
  'alternative: boundary inside a line': alt([part('text/plain', 'see x--b1 here'), part('text/html', 'b')]),
  'alternative: no closing delimiter': msg([...HEAD, 'Content-Type: multipart/alternative; boundary=b1', '', '--b1', part('text/plain', 'a'), '--b1', part('text/html', 'b')]),
  'alternative: a part without a body': alt(['Content-Type: text/plain\r\n', part('text/html', 'b')]),
  'alternative: a part with an empty body': alt([part('text/plain', ''), part('text/html', '')]),
  'alternative: a quoted-printable part': alt([part('text/plain', 'a=3Db', ['Content-Transfer-Encoding: quoted-printable']), part('text/html', 'b')]),
  'alternative: nested multipart': alt([part('multipart/related; boundary=r', '--r\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--r--')]),
  'mixed: base64 that is not clean': mixed([part('text/plain', 'x'), attached('application/pdf', 'a.pdf', `${b64(PDF.subarray(0, 300))}\r\n!!`)]),
  'mixed: a quoted-printable attachment': mixed([part('text/plain', 'x'), attached('application/pdf', 'a.pdf', 'a=3Db', ['Content-Transfer-Encoding: quoted-printable'])]),
  'mixed: a text/calendar part': mixed([part('text/plain', 'x'), part('text/calendar', 'BEGIN:VCALENDAR')]),
  'mixed: an attached message': mixed([part('text/plain', 'x'), part('message/rfc822', 'Subject: inner\r\n\r\nbody')]),
  'mixed: nested mixed': mixed([['Content-Type: multipart/mixed; boundary="n1"', '', '--n1', part('text/plain', 'x'), '--n1--', ''].join('\r\n')]),
  'mixed: related': mixed([['Content-Type: multipart/related; boundary="r1"', '', '--r1', part('text/html', '<p>x</p>'), '--r1--', ''].join('\r\n')]),
  'alternative: an attachment inside': alt([part('text/plain', 'x'), attached('application/pdf', 'a.pdf', b64(PDF))]),
  'alternative: a mixed inside': alt([['Content-Type: multipart/mixed; boundary="n2"', '', '--n2', part('text/plain', 'x'), '--n2--', ''].join('\r\n')]),
  'alternative: a delimiter in the epilogue': msg([...HEAD, 'Content-Type: multipart/alternative; boundary=b1', '', '--b1', part('text/plain', 'a'), '--b1--', '--b1', '']),
};

describe('parseSimple: single-part and alternative text without mailparser streams', () => {
  it("reads header blocks with the very mailsplit mailparser splits with (the versions are pinned together)", () => {
    const mailparserWants = (require('mailparser/package.json') as { dependencies: Record<string, string> }).dependencies['@zone-eu/mailsplit'];
    const ours = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['@zone-eu/mailsplit'];
    assert.equal(ours, mailparserWants, 'package.json must pin @zone-eu/mailsplit to the version mailparser depends on');
    assert.equal((require('@zone-eu/mailsplit/package.json') as { version: string }).version, mailparserWants);
  });
  for (const [name, raw] of Object.entries(TAKEN)) {
    it(`takes and matches mailparser: ${name}`, async () => {
      assert.ok(parseSimple(raw, options.previewChars), 'the fast path should take this shape');
      assert.deepEqual(await parseMetadataOf(raw, options), await mailparser(raw));
    });
  }
  for (const [name, raw] of Object.entries(DECLINED)) {
    it(`leaves to mailparser: ${name}`, async () => {
      assert.equal(parseSimple(raw, options.previewChars), undefined);
      assert.deepEqual(await parseMetadataOf(raw, options), await mailparser(raw));
    });
  }
  it('matches mailparser on every message of the hard-cases corpus, taken or not', async () => {
    for (const [name, raw] of Object.entries(CORPUS)) assert.deepEqual(await parseMetadataOf(raw, options), await mailparser(raw), name);
  });
  it('matches mailparser on generated variants of header and body shapes', async () => {
    const subjects = ['plain', '=?utf-8?B?w6TDtsO8?=', '=?utf-8?Q?a_b?= =?utf-8?Q?c?=', 'Grüße', '=?bogus?Q?x?=', ''];
    const froms = ['a@example.test', '"A, B" <ab@example.test>', '=?utf-8?B?SsO8cmdlbg==?= <j@example.test>', 'undisclosed-recipients:;', '<only@example.test>', 'broken <'];
    const bodies = ['', 'x', 'a\r\nb\r\n', '\r\n\r\n', 'ä'.repeat(400), '<p>x</p>'];
    const types = ['text/plain', 'text/html', 'TEXT/PLAIN; CHARSET=UTF-8', 'text/plain; charset="us-ascii"'];
    let taken = 0;
    for (const [i, subject] of subjects.entries()) {
      for (const [j, from] of froms.entries()) {
        const body = bodies[(i + j) % bodies.length] ?? '';
        const type = types[(i * 7 + j) % types.length] ?? 'text/plain';
        const single = msg([`From: ${from}`, `Subject: ${subject}`, `Message-ID: <v${i}.${j}@x>`, `Date: Mon, 2 Nov 2026 1${i}:0${j}:00 +0000`, `Content-Type: ${type}`, '', body]);
        const both = msg([`From: ${from}`, `Subject: ${subject}`, 'Content-Type: multipart/alternative; boundary=v', '', '--v', part(type, body), '--v', part('text/html', body), '--v--']);
        for (const raw of [single, both]) {
          if (parseSimple(raw, options.previewChars)) taken++;
          assert.deepEqual(await parseMetadataOf(raw, options), await mailparser(raw), raw.toString('utf8').slice(0, 200));
        }
      }
    }
    assert.ok(taken >= 55, `the fast path took only ${taken} of 72 variants`);
  });
  it("matches mailparser's previews wherever they end: multi-byte characters, CRLF, invalid bytes at the cut", async () => {
    // Every preview length from 0 to past the body, over bodies whose units take 1–4 bytes
    // (and 2 for CRLF): each cut of bodyText's prefixes lands inside some character.
    const bodies = [
      'ab\r\ncd\r\n'.repeat(40),
      'äöü€✓'.repeat(30),
      '😀a\r\n😀'.repeat(25),
      `${'x'.repeat(20)}\r\n${'日本語'.repeat(20)}`,
      Buffer.from([0x61, 0xe2, 0x82, 0x0d, 0x0a, 0xf0, 0x9f, 0x98, 0xc3, 0x28, 0xff, 0x62]).toString('latin1').repeat(15),
    ];
    let compared = 0;
    for (const body of bodies) {
      const bytes = Buffer.from(body, /[\u0100-\uffff]/.test(body) ? 'utf8' : 'latin1');
      const single = Buffer.concat([msg([...HEAD, 'Content-Type: text/plain; charset=utf-8', '', '']), bytes]);
      const both = Buffer.concat([msg([...HEAD, 'Content-Type: multipart/alternative; boundary=b1', '', '--b1', 'Content-Type: text/plain', '', '']), bytes, Buffer.from('\r\n--b1\r\nContent-Type: text/html\r\n\r\n'), bytes, Buffer.from('\r\n--b1--\r\n')]);
      for (let chars = 0; chars <= bytes.length + 2; chars += chars < 40 ? 1 : 7) {
        const at = { previewChars: chars, timeoutMs: 10_000 };
        for (const raw of [single, both]) {
          assert.ok(parseSimple(raw, chars), 'the fast path should take this shape');
          assert.deepEqual(await parseMetadataOf(raw, at), await parseMetadata(Readable.from([raw]), at), `${chars} chars of ${JSON.stringify(body.slice(0, 20))}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 300);
  });
  it('matches mailparser on byte-level mutations of the taken shapes (line breaks, delimiters, whitespace)', async () => {
    // Deterministic (xorshift32): a failure names a reproducible input.
    let x = 7;
    const next = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const inserts = ['\r', '\n', '\r\n', '\r\n\r\n', '--b1', '\r\n--b1\r\n', '\r\n--b1--', '--m1', '\r\n--a1\r\n', ' ', '\t', ':', ';', '"', '/', '=?', '=?utf-8?Q?', '\0', '\xff', 'multipart/', 'base64', 'charset=latin1', 'Content-Type: text/html\r\n', 'Content-Transfer-Encoding: quoted-printable\r\n', 'name="x.bin"'];
    const shapes = Object.values(TAKEN);
    let taken = 0;
    for (let i = 0; i < 3000; i++) {
      const base = shapes[next(shapes.length)] ?? Buffer.alloc(0);
      let raw = base;
      for (let k = 1 + next(3); k > 0; k--) {
        const at = next(raw.length + 1);
        raw = Buffer.concat([raw.subarray(0, at), Buffer.from(inserts[next(inserts.length)] ?? ''), raw.subarray(at + next(2))]);
      }
      if (parseSimple(raw, options.previewChars)) taken++;
      assert.deepEqual(await parseMetadataOf(raw, options), await mailparser(raw), JSON.stringify(raw.toString('latin1')));
    }
    assert.ok(taken > 1000, `only ${taken} of 3,000 mutations were taken: the test would not exercise the fast path`);
  });
});
