import { createHash } from 'node:crypto';
import MimeNode from '@zone-eu/mailsplit/lib/mime-node.js';
import { MailParser, type HeaderValue } from 'mailparser';
import { decodeClean } from './mime-skeleton';
import type { AttachmentInfo } from '@postbote/connector-model';

/** Larger messages go through mailparser: the saving is per message, not per byte. */
const SIMPLE_MAX_BYTES = 1024 * 1024;
/** Far below mailsplit's header limit (1 MiB, each line counted as at least 64 bytes). */
const SIMPLE_MAX_HEADER_BYTES = 16 * 1024;

/** How Postbote runs mailparser, here and in parseMetadata: no HTML-to-text, no text-to-HTML, no links. */
export const MAILPARSER_OPTIONS = { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 1_000_000 } as const;

/** mailparser's header decoding and type guessing, which `parseSimple` calls as mailparser itself does. */
interface HeaderDecoder {
  processHeaders(lines: ReadonlyArray<{ key: string; line: string }>): Map<string, HeaderValue>;
  readonly libmime: { detectMimeType(fileName: string): string | false | undefined };
}
let decoder: HeaderDecoder | undefined;

/** What the fast path hands back for the caller to finish as mailparser's answer is finished. */
export interface SimpleParse {
  readonly headers: Map<string, HeaderValue>;
  readonly headerLines: ReadonlyArray<{ key: string; line: string }>;
  /** The first `previewChars` UTF-16 units of mailparser's text and HTML (undefined where it has none). */
  readonly textPreview: string | undefined;
  readonly htmlPreview: string | undefined;
  readonly attachments: AttachmentInfo[];
}

/** A leaf part, in document order, with the byte range of its body. */
interface Leaf {
  readonly node: MimeNode;
  readonly kind: 'text/plain' | 'text/html' | 'attachment';
  readonly bodyStart: number;
  readonly end: number;
  /** Below a multipart/alternative: mailparser then takes a text part as text or HTML only. */
  readonly inAlternative: boolean;
}

/**
 * Why: mailparser runs every message through a chain of streams (a line splitter, a
 * transfer decoder, its own Transform) whose fixed cost — about 0.2 ms and most of the
 * garbage for a small text message — is the largest share of storing one. The common shapes
 * need none of it: a text part, a multipart/alternative of text parts, or a multipart/mixed
 * of those and attachments, with 8-bit UTF-8 (or ASCII) text. This path reads only those,
 * with mailparser's own pieces: mailsplit's MimeNode parses each header block (content type,
 * charset, encoding, boundary, file name), mailparser's processHeaders decodes the header
 * values, each text body becomes text exactly as mailparser's inline text handler and
 * getTextContent make it (as far as the preview reads it), and an attachment is measured as
 * mailparser's hasher measures it (a base64 body only when it is clean, see `decodeClean`).
 * It accepts a message only where mailsplit's split is beyond doubt — header blocks of plain
 * CRLF lines, every occurrence of a boundary an exact delimiter at a CRLF line start, a
 * closing delimiter, no empty part — and returns undefined for anything else (a
 * quoted-printable or base64 text, another charset, format=flowed, a text disposition,
 * deeper nesting, embedded messages), which then goes to mailparser. A differential test (parse-simple.spec.ts) holds the two equal.
 */
export function parseSimple(raw: Buffer, previewChars: number): SimpleParse | undefined {
  if (raw.length > SIMPLE_MAX_BYTES) return undefined;
  const root = headerBlock(raw, 0, raw.length, false);
  if (!root) return undefined;
  const headers = root.node.headers;
  if (!headers || headers.mbox || headers.http) return undefined;
  const leaves: Leaf[] = [];
  if (!collect(raw, root.node, root.bodyStart, raw.length, false, leaves)) return undefined;
  decoder ??= new MailParser(MAILPARSER_OPTIONS) as unknown as HeaderDecoder;
  const attachments: AttachmentInfo[] = [];
  for (const leaf of leaves) {
    if (leaf.kind !== 'attachment') continue;
    const a = measure(leaf.node, raw.subarray(leaf.bodyStart, leaf.end), decoder);
    if (!a) return undefined;
    attachments.push(a);
  }
  const lines = headers.getList();
  const decoded = decoder.processHeaders(lines);
  const { text, html } = textContent(raw, leaves, previewChars);
  return { headers: decoded, headerLines: lines, textPreview: text?.slice(0, previewChars), htmlPreview: html?.slice(0, previewChars), attachments };
}

/**
 * mailparser's getTextContent over the leaves, as far as a preview of `chars` reads it: an
 * empty body adds nothing; below an alternative a part is text or HTML; elsewhere a text part
 * adds an empty HTML (text-to-HTML is off) when the message has HTML, and an HTML part an
 * empty text (HTML-to-text is off) when it has text or is the message itself. Each body is
 * whole or its first `chars` units (`bodyText`), so the joined text's first `chars` are
 * mailparser's.
 */
function textContent(raw: Buffer, leaves: readonly Leaf[], chars: number): { text: string | undefined; html: string | undefined } {
  const hasText = leaves.some((l) => l.kind === 'text/plain');
  const hasHtml = leaves.some((l) => l.kind === 'text/html');
  const texts: string[] = [];
  const htmls: string[] = [];
  for (const leaf of leaves) {
    // Only no bytes decode to no text.
    if (leaf.kind === 'attachment' || leaf.bodyStart === leaf.end) continue;
    const body = bodyText(raw, leaf.bodyStart, leaf.end, chars);
    if (leaf.kind === 'text/plain') {
      texts.push(body);
      if (!leaf.inAlternative && hasHtml) htmls.push('');
    } else {
      if ((!leaf.inAlternative && hasText) || (leaf.node.root && !hasText)) texts.push('');
      htmls.push(body);
    }
  }
  return { text: texts.length ? texts.join('\n') : undefined, html: htmls.length ? htmls.join('<br/>\n') : undefined };
}

/**
 * A text body as mailparser makes it (UTF-8, CRLF → LF): whole, or its first `chars` UTF-16
 * units. Why: only a preview is kept, and decoding and normalizing whole 2–13 KB bodies for
 * their first 2,000 characters was a fifth of this path's CPU. A prefix of the bytes decodes to
 * the whole's text but for its last unit (a character or a CRLF cut in two: UTF-8 resynchronizes
 * after at most one replacement character), and no unit takes more than three bytes — so a
 * prefix that yields more than `chars` units is exact up to `chars`. Mostly one-byte text is
 * tried first, with room for a line break per line.
 */
function bodyText(raw: Buffer, start: number, end: number, chars: number): string {
  const guess = start + chars + (chars >> 3) + 16;
  if (guess < end) {
    const text = decodeText(raw, start, guess);
    if (text.length > chars) return text.slice(0, chars);
  }
  const stop = Math.min(end, start + 3 * (chars + 1));
  const text = decodeText(raw, start, stop);
  return stop === end ? text : text.slice(0, chars);
}

function decodeText(raw: Buffer, start: number, end: number): string {
  return raw.toString('utf8', start, end).replace(/\r?\n/g, '\n');
}

/**
 * Gathers the leaves below `node` when the shape is one this path reads: a multipart/mixed
 * message, or a multipart/alternative message or part of one; text leaves; attachments
 * outside an alternative.
 */
function collect(raw: Buffer, node: MimeNode, bodyStart: number, end: number, inAlternative: boolean, leaves: Leaf[]): boolean {
  if (node.multipart) {
    const depth = node.root ? 0 : 1;
    const allowed = node.multipart === 'alternative' ? !inAlternative : node.multipart === 'mixed' && depth === 0;
    if (!allowed || !node._boundary || transferEncoded(node)) return false;
    const parts = delimitedParts(raw, bodyStart, end, node._boundary);
    if (!parts) return false;
    for (const part of parts) {
      const child = headerBlock(raw, part.start, part.end, node);
      // An empty part: mailparser's text then differs from the bytes' (the differential test found it).
      if (!child || child.bodyStart >= part.end) return false;
      if (child.node.multipart && depth > 0) return false;
      if (!collect(raw, child.node, child.bodyStart, part.end, inAlternative || node.multipart === 'alternative', leaves)) return false;
    }
    return true;
  }
  if (node._boundary || node.flowed || node.rfc822) return false;
  // mailparser calls a message without a type text/plain; a part whose type came out empty
  // stays typeless (an attachment of type false), which is left to mailparser.
  const type = node.contentType || (node.root ? 'text/plain' : '');
  if (!type) return false;
  if (type === 'text/plain' || type === 'text/html') {
    if (node.disposition || transferEncoded(node) || !plainCharset(node)) return false;
    leaves.push({ node, kind: type, bodyStart, end, inAlternative });
    return true;
  }
  // Other text types, embedded messages, anything multipart/ (even with no subtype), a type
  // that is not a plain type/subtype, and attachments below an alternative stay with mailparser.
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(type) || /^(text|message|multipart)\//.test(type)) return false;
  if (inAlternative || node.encoding === 'quoted-printable') return false;
  leaves.push({ node, kind: 'attachment', bodyStart, end, inAlternative });
  return true;
}

/** An attachment as mailparser reports it: decoded size and SHA-256, its file name, its type (guessed from the name for octet-stream). */
function measure(node: MimeNode, body: Buffer, mailparser: HeaderDecoder): AttachmentInfo | undefined {
  const decoded = node.encoding === 'base64' ? decodeClean(body) : { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
  if (!decoded) return undefined;
  const fileName = node.filename || '';
  let contentType = node.contentType || 'application/octet-stream';
  if (contentType === 'application/octet-stream' && fileName) contentType = mailparser.libmime.detectMimeType(fileName) || 'application/octet-stream';
  return { fileName, contentType, size: decoded.size, sha256: decoded.sha256 };
}

/** The node of a header block of plain CRLF lines at `start`, and where its body starts. */
function headerBlock(raw: Buffer, start: number, end: number, parent: MimeNode | false): { node: MimeNode; bodyStart: number } | undefined {
  const stop = raw.indexOf('\r\n\r\n', start);
  if (stop <= start || stop - start > SIMPLE_MAX_HEADER_BYTES || stop + 4 > end) return undefined;
  const bodyStart = stop + 4;
  if (!plainHeaderBlock(raw, start, bodyStart)) return undefined;
  const node = new MimeNode(parent, {});
  node.addHeaderChunk(raw.subarray(start, bodyStart));
  node.parseHeaders();
  return { node, bodyStart };
}

/** Text mailparser leaves as it is: UTF-8 or ASCII (or no charset). */
function plainCharset(node: MimeNode): boolean {
  const charset = (node.charset || 'utf-8').toLowerCase().replace(/[^a-z0-9]+/g, '');
  return charset === 'ascii' || charset === 'usascii' || charset === 'utf8';
}

/** Encodings mailsplit decodes; every other value passes the bytes through. */
function transferEncoded(node: MimeNode): boolean {
  return node.encoding === 'quoted-printable' || node.encoding === 'base64';
}

/**
 * The parts of a multipart body in [bodyStart, end) when its delimiters leave no doubt: every
 * occurrence of `--boundary` starts a CRLF line (not after a lone CR) and is `--boundary`
 * CRLF, or the one closing `--boundary--` (CRLF or the end) after which no occurrence
 * follows. A part ends before the CRLF in front of the next delimiter, which belongs to the
 * delimiter.
 */
function delimitedParts(raw: Buffer, bodyStart: number, end: number, boundary: Buffer): Array<{ start: number; end: number }> | undefined {
  const dash = Buffer.concat([Buffer.from('--'), boundary]);
  // The next occurrence in range; -2 for one that runs past the range's end.
  const next = (from: number) => {
    const at = raw.indexOf(dash, from);
    if (at < 0 || at >= end) return -1;
    return at + dash.length > end ? -2 : at;
  };
  const parts: Array<{ start: number; end: number }> = [];
  let open = -1;
  for (let at = next(bodyStart); at !== -1; at = next(at + 1)) {
    if (at === -2) return undefined;
    const lineStart = at === bodyStart || (raw[at - 2] === 0x0d && raw[at - 1] === 0x0a && raw[at - 3] !== 0x0d);
    if (!lineStart) return undefined;
    const after = at + dash.length;
    if (open >= 0) {
      if (at - 2 < open) return undefined;
      parts.push({ start: open, end: at - 2 });
    }
    if (after + 2 <= end && raw[after] === 0x0d && raw[after + 1] === 0x0a) {
      open = after + 2;
      continue;
    }
    const closing = after + 2 <= end && raw[after] === 0x2d && raw[after + 1] === 0x2d && (after + 2 === end || (after + 4 <= end && raw[after + 2] === 0x0d && raw[after + 3] === 0x0a));
    if (!closing || open < 0 || next(after) !== -1) return undefined;
    return parts;
  }
  return undefined;
}

/**
 * A header block mailsplit splits into the same lines as `indexOf('\r\n\r\n')` does: every
 * line ends in CRLF, no bare CR or LF, no NUL; the first line is neither empty nor a continuation.
 */
function plainHeaderBlock(raw: Buffer, start: number, bodyStart: number): boolean {
  // A first line that is empty ends the block at once (no headers); one that is folded continues nothing.
  const first = raw[start];
  if (first === 0x20 || first === 0x09 || first === 0x0d || first === 0x0a) return false;
  for (let i = start; i < bodyStart; i++) {
    const c = raw[i];
    if (c === 0x0d) {
      if (raw[i + 1] !== 0x0a) return false;
      i++;
    } else if (c === 0x0a || c === 0x00) return false;
  }
  return true;
}
