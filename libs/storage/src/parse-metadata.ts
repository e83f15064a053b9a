import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { MailParser, type AddressObject, type HeaderValue } from 'mailparser';
import type { MailAddress, ParsedMetadata } from '@postbote/connector-model';
import { PART_HEADER, skeletonOf } from './mime-skeleton';
import { MAILPARSER_OPTIONS, parseSimple, type SimpleParse } from './parse-simple';

export interface ParseOptions {
  readonly previewChars: number;
  readonly timeoutMs: number;
}

/**
 * Metadata of an email held whole in memory, always what `parseMetadata` gives for the same
 * bytes, by the cheapest way that gives it: the common shapes (text, text + HTML, with
 * attachments, in UTF-8) without mailparser's streams (see `parseSimple`); any other message
 * with large base64 attachments with those decoded and hashed natively and mailparser
 * parsing the rest (see `skeletonOf`; when mailparser's view of the skeleton does not
 * confirm every cut, the original is parsed as a whole); everything else by mailparser.
 */
export async function parseMetadataOf(raw: Buffer, options: ParseOptions): Promise<ParsedMetadata> {
  const simple = simpleOrUndefined(raw, options.previewChars);
  if (simple) return fromSimple(simple);
  return (await parseSkeleton(raw, options)) ?? parseMetadata(Readable.from([raw]), options);
}

/** The fast path never decides the outcome: whatever it cannot read, or throws on, goes to mailparser. */
function simpleOrUndefined(raw: Buffer, previewChars: number): SimpleParse | undefined {
  try {
    return parseSimple(raw, previewChars);
  } catch {
    return undefined;
  }
}

/** The metadata from the fast path's pieces, finished exactly as `parseMetadata` finishes mailparser's. */
function fromSimple(s: SimpleParse): ParsedMetadata {
  const meta = emptyMetadata();
  try {
    readHeaders(s.headers, meta);
  } catch (err) {
    meta.problems.push(`unreadable headers: ${(err as Error).message}`);
  }
  if (s.textPreview !== undefined) meta.textPreview = s.textPreview;
  if (s.htmlPreview !== undefined) meta.htmlPreview = s.htmlPreview;
  meta.attachments = s.attachments;
  finishMetadata(meta, rawDateOf(s.headerLines));
  return meta;
}

/** The metadata from the skeleton when mailparser confirms every cut; undefined otherwise. */
export async function parseSkeleton(raw: Buffer, options: ParseOptions): Promise<ParsedMetadata | undefined> {
  const skeleton = skeletonOf(raw);
  if (!skeleton) return undefined;
  const marks = new Map<string, AttachmentMark | 'twice'>();
  const meta = await parseMetadata(Readable.from([skeleton.bytes]), options, (mark) => marks.set(mark.part, marks.has(mark.part) ? 'twice' : mark));
  if (marks.size !== skeleton.parts.length || meta.problems.some((p) => INTERRUPTED.test(p))) return undefined;
  const attachments = [...meta.attachments];
  for (const [i, cut] of skeleton.parts.entries()) {
    const mark = marks.get(`${skeleton.marker}-${i}`);
    if (mark === undefined || mark === 'twice' || mark.size !== 0 || !mark.base64) return undefined;
    const att = attachments[mark.index];
    if (!att) return undefined;
    attachments[mark.index] = { ...att, size: cut.size, sha256: cut.sha256 };
  }
  return { ...meta, attachments };
}

/** Problems that end parsing early: the skeleton's answer is then not the original's. */
const INTERRUPTED = /^(MIME parse error|parsing stopped|read error)/;

/** An attachment that carried `PART_HEADER`, as mailparser reported it. */
interface AttachmentMark {
  readonly part: string;
  readonly index: number;
  readonly size: number;
  readonly base64: boolean;
}

/**
 * Parses with mailparser's streaming interface: attachments are hashed as they stream
 * past and never held whole. A parser error or timeout ends parsing with what was found
 * so far plus a problem entry: the raw bytes are stored regardless.
 */
export function parseMetadata(input: Readable, options: ParseOptions, onMarked?: (mark: AttachmentMark) => void): Promise<ParsedMetadata> {
  const meta = emptyMetadata();
  return new Promise((resolve) => {
    let settled = false;
    let rawDate: string | null = null;
    const parser = new MailParser(MAILPARSER_OPTIONS);
    const finish = (problem?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (problem) meta.problems.push(problem);
      finishMetadata(meta, rawDate);
      input.unpipe(parser);
      input.destroy();
      parser.removeAllListeners('data');
      resolve(meta);
    };
    const timer = setTimeout(() => finish(`parsing stopped after ${options.timeoutMs} ms`), options.timeoutMs);

    parser.on('headers', (headers: Map<string, HeaderValue>) => {
      try {
        readHeaders(headers, meta);
      } catch (err) {
        meta.problems.push(`unreadable headers: ${(err as Error).message}`);
      }
    });
    // mailparser replaces an unparseable Date with the current time, which would make a
    // broken message look freshly dated. Read the raw line ourselves instead.
    parser.on('headerLines', (lines: Array<{ key: string; line: string }>) => (rawDate = rawDateOf(lines)));
    parser.on('data', (data: { type: string; [k: string]: unknown }) => {
      if (data.type === 'attachment') {
        const att = data as unknown as { content: Readable; filename?: string; contentType: string; headers: Map<string, HeaderValue>; release(): void };
        const hash = createHash('sha256');
        let size = 0;
        att.content.on('data', (b: Buffer) => {
          size += b.length;
          hash.update(b);
        });
        att.content.on('end', () => {
          const part = onMarked ? att.headers.get(PART_HEADER.toLowerCase()) : undefined;
          if (typeof part === 'string') onMarked?.({ part, index: meta.attachments.length, size, base64: att.headers.get('content-transfer-encoding') === 'base64' });
          meta.attachments.push({ fileName: att.filename ?? '', contentType: att.contentType, size, sha256: hash.digest('hex') });
          att.release();
        });
        att.content.on('error', () => att.release());
      } else if (data.type === 'text') {
        const text = data as { text?: string; html?: string | false };
        if (typeof text.text === 'string') meta.textPreview = preview(text.text, options.previewChars);
        if (typeof text.html === 'string') meta.htmlPreview = preview(text.html, options.previewChars);
      }
    });
    parser.on('error', (err: Error) => finish(`MIME parse error: ${err.message}`));
    parser.on('end', () => finish());
    input.on('error', (err) => finish(`read error: ${err.message}`));
    input.pipe(parser);
  });
}

function emptyMetadata(): ParsedMetadata {
  return { from: null, to: [], cc: [], replyTo: [], subject: '', date: null, messageId: '', inReplyTo: '', references: [], textPreview: '', htmlPreview: '', attachments: [], problems: [] };
}

/** The Date header's own text: mailparser replaces an unparseable one with the current time. */
function rawDateOf(lines: ReadonlyArray<{ key: string; line: string }>): string | null {
  const raw = lines.find((l) => l.key === 'date')?.line.replace(/^date:\s*/i, '').trim();
  return raw === undefined ? null : raw;
}

/** The checks every parse ends with, after what the parser reported. */
function finishMetadata(meta: ParsedMetadata, rawDate: string | null): void {
  if (rawDate !== null && Number.isNaN(new Date(rawDate).getTime())) {
    meta.date = null;
    meta.problems.push('Date header is not a valid date');
  }
  checkHeaders(meta);
}

function readHeaders(headers: Map<string, HeaderValue>, meta: ParsedMetadata): void {
  meta.from = addresses(headers.get('from'))[0] ?? null;
  meta.to = addresses(headers.get('to'));
  meta.cc = addresses(headers.get('cc'));
  meta.replyTo = addresses(headers.get('reply-to'));
  const subject = headers.get('subject');
  meta.subject = typeof subject === 'string' ? subject : '';
  const date = headers.get('date');
  if (date instanceof Date && !Number.isNaN(date.getTime())) meta.date = date.toISOString();
  meta.messageId = stringHeader(headers.get('message-id'));
  meta.inReplyTo = stringHeader(headers.get('in-reply-to'));
  const refs = headers.get('references');
  meta.references = Array.isArray(refs) ? refs.map(String) : typeof refs === 'string' ? refs.split(/\s+/).filter(Boolean) : [];
}

function checkHeaders(meta: ParsedMetadata): void {
  if (!meta.from) meta.problems.push('no From header');
  if (!meta.messageId) meta.problems.push('no Message-ID header');
  if (!meta.date && !meta.problems.some((p) => p.startsWith('Date'))) meta.problems.push('no Date header');
}

function stringHeader(v: HeaderValue | undefined): string {
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v)) return String(v[0] ?? '').trim();
  return '';
}

function addresses(v: HeaderValue | undefined): MailAddress[] {
  if (!v || typeof v !== 'object' || !('value' in (v as object))) return [];
  const list = Array.isArray(v) ? (v as AddressObject[]) : [v as AddressObject];
  const out: MailAddress[] = [];
  const walk = (entries: AddressObject['value']) => {
    for (const e of entries) {
      if (e.group) walk(e.group);
      else out.push({ name: e.name ?? '', address: e.address ?? '' });
    }
  };
  for (const a of list) walk(a.value);
  return out;
}

function preview(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max);
}
