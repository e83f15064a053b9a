// A realistic, reproducible mailbox for benchmarks: mostly small text and HTML mail, some
// with attachments of about 200 KB, a few of 5 MB, subjects and names with non-ASCII text
// (RFC 2047 encoded words, and some raw UTF-8 headers). Same seed, same bytes.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** xorshift32, deterministic. */
export function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T };
}
type Rng = ReturnType<typeof rng>;

const WORDS = ['Rechnung', 'invoice', 'Störung', 'incident', 'Bestellung', 'order', 'Lieferung', 'delivery', 'Grüße', 'meeting', 'Prüfung', 'report', 'Anfrage', 'request', 'Übersicht', 'status', 'Ärger', 'ticket', 'Zahlung', 'payment', 'naïve', 'façade', '日本語', 'Ελληνικά'];
const NAMES = ['Jürgen Müller', 'Anna Schmidt', 'Zoë Dupont', 'Søren Kierkegaard', 'Ana López', 'Björk Guðmundsdóttir', 'Alex Smith', '李雷'];

const encodedWord = (s: string) => `=?utf-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
const sentence = (r: Rng, n: number) => Array.from({ length: n }, () => r.pick(WORDS)).join(' ');

function paragraph(r: Rng, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = sentence(r, 6 + r.int(8));
    lines.push(line);
    size += Buffer.byteLength(line) + 2;
  }
  return lines.join('\r\n');
}

function base64Lines(r: Rng, bytes: number): string {
  const raw = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) raw.writeUInt32LE((r.next() * 0xffffffff) >>> 0, Math.min(i, bytes - 4));
  return raw.toString('base64').replace(/.{76}/g, '$&\r\n');
}

export type Kind = 'text' | 'html' | 'attachment' | 'large' | 'document';

/**
 * What a corpus holds: 'mixed' (the default: see kindOf) or 'documents' — every message a
 * short text with a ~100 KB base64 attachment (issue #27's corpus "of ~100 KB emails", where
 * bytes, not messages, dominate).
 */
export type Shape = 'mixed' | 'documents';
export const SHAPES: readonly Shape[] = ['mixed', 'documents'];

/** Which kind message `i` of a mixed corpus is: 70 % text, 20 % HTML, 9 % ~200 KB attachment, 0.1 % 5 MB. */
export function kindOf(i: number, shape: Shape = 'mixed'): Kind {
  if (shape === 'documents') return 'document';
  if (i % 1000 === 999) return 'large';
  if (i % 100 >= 91) return 'attachment';
  if (i % 10 >= 7) return 'html';
  return 'text';
}

/** Message `i` of the corpus with this seed (CRLF line ends, as on the wire). */
export function message(seed: number, i: number, shape: Shape = 'mixed'): Buffer {
  const r = rng(seed * 100_003 + i + 1);
  const kind = kindOf(i, shape);
  const from = r.pick(NAMES);
  const subject = `${sentence(r, 3 + r.int(4))} #${i}`;
  const rawUtf8 = r.next() < 0.2;
  const headers = [
    `Return-Path: <sender${i % 97}@example.test>`,
    `Received: from mx${i % 7}.example.test by mail.example.test; Mon, 2 Nov 2026 10:${String(i % 60).padStart(2, '0')}:00 +0000`,
    `From: ${rawUtf8 ? `"${from}"` : encodedWord(from)} <sender${i % 97}@example.test>`,
    `To: support@example.test`,
    `Subject: ${rawUtf8 ? subject : encodedWord(subject)}`,
    `Message-ID: <bench-${seed}-${i}@example.test>`,
    `Date: Mon, 2 Nov 2026 10:${String(i % 60).padStart(2, '0')}:00 +0000`,
    'MIME-Version: 1.0',
  ];
  let body: string;
  switch (kind) {
    case 'text':
      headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
      body = paragraph(r, 2_000 + r.int(8_000));
      break;
    case 'html': {
      const text = paragraph(r, 3_000 + r.int(10_000));
      headers.push('Content-Type: multipart/alternative; boundary="alt"');
      body = `--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body>${text
        .split('\r\n')
        .map((l) => `<p>${l}</p>`)
        .join('\r\n')}</body></html>\r\n--alt--`;
      break;
    }
    case 'attachment':
    case 'document':
    case 'large': {
      const size = kind === 'large' ? 5 * 1024 * 1024 : kind === 'document' ? 68_000 + r.int(10_000) : 150_000 + r.int(100_000);
      headers.push('Content-Type: multipart/mixed; boundary="mix"');
      body = `--mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${paragraph(r, 1_500)}\r\n--mix\r\nContent-Type: application/pdf; name="${kind}-${i}.pdf"\r\nContent-Disposition: attachment; filename="${kind}-${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(r, size)}\r\n--mix--`;
      break;
    }
  }
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`, 'utf8');
}

/**
 * A Maildir holding messages 0..n-1 (unseen, in `cur/`), written once under `root` and
 * reused: a benchmark's mailbox is a hard-linked copy (`cloneMaildir`), made in a moment
 * and independent of the others (Dovecot renames files to change flags, never rewrites).
 */
export function corpusMaildir(root: string, seed: number, n: number, shape: Shape = 'mixed'): { dir: string; bytes: number } {
  const dir = join(root, shape === 'mixed' ? `corpus-${seed}-${n}` : `corpus-${shape}-${seed}-${n}`, 'Maildir');
  const done = join(dir, '..', 'complete');
  if (!existsSync(done)) {
    let bytes = 0;
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    for (let i = 0; i < n; i++) {
      const m = message(seed, i, shape);
      bytes += m.length;
      // Names sort in message order, so the server's UIDs follow it.
      writeFileSync(join(dir, 'cur', `${1_700_000_000 + i}.M${i}P1.bench:2,`), m);
    }
    writeFileSync(done, String(bytes));
  }
  return { dir, bytes: Number(readFileSync(done, 'utf8')) };
}

/** Who owns a test Dovecot mailbox's files: its userdb's uid (scripts/test-env.sh). */
const MAIL_OWNER = { uid: Number(execFileSync('id', ['-u', 'nobody']).toString()), gid: Number(execFileSync('id', ['-g', 'nobody']).toString()) };

/**
 * A hard-linked copy of a corpus Maildir as `home/<user>/Maildir`, owned by the mail uid;
 * `flags` are Maildir flag letters every message gets (`S`: read).
 */
export function cloneMaildir(corpus: string, home: string, user: string, flags = ''): void {
  const target = join(home, user, 'Maildir');
  const staging = `${target}.tmp`;
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(staging, sub), { recursive: true });
  for (const name of readdirSync(join(corpus, 'cur'))) linkSync(join(corpus, 'cur', name), join(staging, 'cur', `${name}${flags}`));
  for (const p of [join(home, user), staging, join(staging, 'cur'), join(staging, 'new'), join(staging, 'tmp')]) chownSync(p, MAIL_OWNER.uid, MAIL_OWNER.gid);
  renameSync(staging, target);
}
