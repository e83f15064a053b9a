import MimeNode from '@zone-eu/mailsplit/lib/mime-node.js';
import { MailParser, type HeaderValue } from 'mailparser';

/** Larger messages go through mailparser: the saving is per message, not per byte. */
const SIMPLE_MAX_BYTES = 1024 * 1024;
/** Far below mailsplit's header limit (1 MiB, each line counted as at least 64 bytes). */
const SIMPLE_MAX_HEADER_BYTES = 16 * 1024;

/** How Postbote runs mailparser, here and in parseMetadata: no HTML-to-text, no text-to-HTML, no links. */
export const MAILPARSER_OPTIONS = { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 1_000_000 } as const;

/** mailparser's header decoding, which `parseSimple` calls as mailparser itself does. */
interface HeaderDecoder {
  processHeaders(lines: ReadonlyArray<{ key: string; line: string }>): Map<string, HeaderValue>;
}
let decoder: HeaderDecoder | undefined;

/** What the fast path hands back for the caller to finish as mailparser's answer is finished. */
export interface SimpleParse {
  readonly headers: Map<string, HeaderValue>;
  readonly headerLines: ReadonlyArray<{ key: string; line: string }>;
  readonly text: string | undefined;
  readonly html: string | undefined;
}

/** A text leaf as mailsplit reads it; undefined for anything this path leaves to mailparser. */
interface TextLeaf {
  readonly node: MimeNode;
  readonly contentType: 'text/plain' | 'text/html';
  readonly bodyStart: number;
}

/**
 * Why: mailparser runs every message through a chain of streams (a line splitter, a
 * transfer decoder, its own Transform) whose fixed cost — about 0.2 ms and most of the
 * garbage for a small text message — is the largest share of storing one. The common shapes
 * need none of it: a single text part, or a multipart/alternative of text parts, with 8-bit
 * UTF-8 (or ASCII) bodies. This path reads only those, with mailparser's own pieces:
 * mailsplit's MimeNode parses each header block (content type, charset, encoding, boundary),
 * mailparser's processHeaders decodes the header values, and each body becomes text exactly
 * as mailparser's inline text handler and getTextContent make it. It accepts a message only
 * where mailsplit's split is beyond doubt — header blocks of plain CRLF lines, every
 * occurrence of the boundary an exact delimiter at a CRLF line start, a closing delimiter —
 * and returns undefined for anything else (a transfer encoding, another charset,
 * format=flowed, a disposition, nesting, attachments), which then goes to mailparser. A
 * differential test (parse-simple.spec.ts) holds the two equal.
 */
export function parseSimple(raw: Buffer): SimpleParse | undefined {
  if (raw.length > SIMPLE_MAX_BYTES) return undefined;
  const root = headerBlock(raw, 0, raw.length, false);
  if (!root) return undefined;
  const headers = root.node.headers;
  if (!headers || headers.mbox || headers.http) return undefined;
  let leaves: Array<{ leaf: TextLeaf; end: number }>;
  if (root.node.multipart === 'alternative' && root.node._boundary && !transferEncoded(root.node)) {
    const parts = alternativeParts(raw, root.bodyStart, root.node._boundary);
    if (!parts) return undefined;
    leaves = [];
    for (const part of parts) {
      const child = headerBlock(raw, part.start, part.end, root.node);
      // An empty part: mailparser's text then differs from the bytes' (the differential test found it).
      const leaf = child && child.bodyStart < part.end ? textLeaf(child.node, child.bodyStart) : undefined;
      if (!leaf) return undefined;
      leaves.push({ leaf, end: part.end });
    }
  } else {
    const leaf = textLeaf(root.node, root.bodyStart);
    if (!leaf) return undefined;
    leaves = [{ leaf, end: raw.length }];
  }
  const lines = headers.getList();
  decoder ??= new MailParser(MAILPARSER_OPTIONS) as unknown as HeaderDecoder;
  const decoded = decoder.processHeaders(lines);
  // mailparser's getTextContent: an empty body adds nothing; in an alternative each part is
  // either text or HTML; a lone HTML part adds an empty text (HTML-to-text is off).
  const texts: string[] = [];
  const htmls: string[] = [];
  for (const { leaf, end } of leaves) {
    const body = raw.toString('utf8', leaf.bodyStart, end).replace(/\r?\n/g, '\n');
    if (!body) continue;
    if (leaf.contentType === 'text/plain') texts.push(body);
    else {
      if (leaf.node.root) texts.push('');
      htmls.push(body);
    }
  }
  return { headers: decoded, headerLines: lines, text: texts.length ? texts.join('\n') : undefined, html: htmls.length ? htmls.join('<br/>\n') : undefined };
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

function textLeaf(node: MimeNode, bodyStart: number): TextLeaf | undefined {
  if (node.multipart || node._boundary || node.disposition || node.flowed || node.rfc822 || transferEncoded(node)) return undefined;
  const contentType = node.contentType || 'text/plain';
  if (contentType !== 'text/plain' && contentType !== 'text/html') return undefined;
  const charset = (node.charset || 'utf-8').toLowerCase().replace(/[^a-z0-9]+/g, '');
  if (charset !== 'ascii' && charset !== 'usascii' && charset !== 'utf8') return undefined;
  return { node, contentType, bodyStart };
}

/** Encodings mailsplit decodes; every other value passes the bytes through. */
function transferEncoded(node: MimeNode): boolean {
  return node.encoding === 'quoted-printable' || node.encoding === 'base64';
}

/**
 * The parts of a multipart body when its delimiters leave no doubt: every occurrence of
 * `--boundary` starts a CRLF line (not after a lone CR) and is `--boundary` CRLF, or the
 * one closing `--boundary--` (CRLF or the end) after which no occurrence follows. A part
 * ends before the CRLF in front of the next delimiter, which belongs to the delimiter.
 */
function alternativeParts(raw: Buffer, bodyStart: number, boundary: Buffer): Array<{ start: number; end: number }> | undefined {
  const dash = Buffer.concat([Buffer.from('--'), boundary]);
  const parts: Array<{ start: number; end: number }> = [];
  let open = -1;
  for (let at = raw.indexOf(dash, bodyStart); at >= 0; at = raw.indexOf(dash, at + 1)) {
    const lineStart = at === bodyStart || (raw[at - 2] === 0x0d && raw[at - 1] === 0x0a && raw[at - 3] !== 0x0d);
    if (!lineStart) return undefined;
    const after = at + dash.length;
    if (open >= 0) {
      if (at - 2 < open) return undefined;
      parts.push({ start: open, end: at - 2 });
    }
    if (raw[after] === 0x0d && raw[after + 1] === 0x0a) {
      open = after + 2;
      continue;
    }
    const closing = raw[after] === 0x2d && raw[after + 1] === 0x2d && (after + 2 === raw.length || (raw[after + 2] === 0x0d && raw[after + 3] === 0x0a));
    if (!closing || open < 0 || raw.indexOf(dash, after) >= 0) return undefined;
    return parts;
  }
  return undefined;
}

/**
 * A header block mailsplit splits into the same lines as `indexOf('\r\n\r\n')` does: every
 * line ends in CRLF, no bare CR or LF, no NUL; the first line is not a continuation.
 */
function plainHeaderBlock(raw: Buffer, start: number, bodyStart: number): boolean {
  const first = raw[start];
  if (first === 0x20 || first === 0x09) return false;
  for (let i = start; i < bodyStart; i++) {
    const c = raw[i];
    if (c === 0x0d) {
      if (raw[i + 1] !== 0x0a) return false;
      i++;
    } else if (c === 0x0a || c === 0x00) return false;
  }
  return true;
}
