import type { ImapFlow } from 'imapflow';
import { MailboxError } from '@postbote/mailbox';

/** A message chosen for this run, with the size the server listed (RFC822.SIZE). */
export interface Chosen {
  readonly uid: number;
  readonly size: number;
  readonly modseq: bigint | undefined;
  /** The whole message, already fetched with the listing (a woken run's, listTail). */
  readonly source?: Buffer | undefined;
}

export interface FetchPlan {
  /** Messages up to this listed size travel in a shared UID FETCH; larger ones alone, in pieces. */
  readonly largeBytes: number;
  /** Listed bytes per shared UID FETCH (bounds what one command buffers). */
  readonly groupBytes: number;
  readonly groupMessages: number;
}

export const DEFAULT_FETCH_PLAN: FetchPlan = { largeBytes: 1024 * 1024, groupBytes: 8 * 1024 * 1024, groupMessages: 250 };

export type FetchGroup =
  | { readonly kind: 'shared'; readonly messages: readonly Chosen[] }
  | { readonly kind: 'large'; readonly message: Chosen }
  | { readonly kind: 'fetched'; readonly message: Chosen; readonly source: Buffer };

/** Splits the chosen messages, in order, into shared fetches, lone large ones and those already fetched. */
export function fetchGroups(chosen: readonly Chosen[], plan: FetchPlan): FetchGroup[] {
  const groups: FetchGroup[] = [];
  let shared: Chosen[] = [];
  let bytes = 0;
  const close = () => {
    if (shared.length) groups.push({ kind: 'shared', messages: shared });
    shared = [];
    bytes = 0;
  };
  for (const m of chosen) {
    if (m.source) {
      close();
      groups.push({ kind: 'fetched', message: m, source: m.source });
      continue;
    }
    if (m.size > plan.largeBytes) {
      close();
      groups.push({ kind: 'large', message: m });
      continue;
    }
    if (shared.length >= plan.groupMessages || (shared.length > 0 && bytes + m.size > plan.groupBytes)) close();
    shared.push(m);
    bytes += m.size;
  }
  close();
  return groups;
}

/** A compact IMAP UID set ("3:7,9,12:13") of ascending UIDs. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const parts: string[] = [];
  let first: number | undefined;
  let last = 0;
  for (const uid of sorted) {
    if (first !== undefined && uid === last + 1) {
      last = uid;
      continue;
    }
    if (first !== undefined) parts.push(first === last ? `${first}` : `${first}:${last}`);
    first = last = uid;
  }
  if (first !== undefined) parts.push(first === last ? `${first}` : `${first}:${last}`);
  return parts.join(',');
}

/**
 * Yields the messages of a UID set with one UID FETCH BODY.PEEK[], each complete: the
 * parser hands a message over only once its whole literal arrived, and a connection
 * that dies mid-literal makes the fetch throw. Messages expunged meanwhile are absent.
 */
export async function* fetchShared(client: ImapFlow, uids: readonly number[]): AsyncGenerator<{ uid: number; source: Buffer }> {
  for await (const m of client.fetch(uidSet(uids), { uid: true, source: true }, { uid: true })) {
    if (m.source) yield { uid: m.uid, source: m.source };
  }
}

/**
 * One large message in pieces (UID FETCH BODY.PEEK[]<offset.length>), so memory stays
 * one piece whatever its size. It ends only at a piece shorter than asked for — the
 * server's own end of the text (RFC 3501 §6.4.5); a piece that does not come (closed
 * connection, missing message) throws, so a cut transfer can never pass for a complete
 * one. (imapflow's download() ends its stream quietly in that case, which once stored a
 * truncated message as complete.)
 */
export async function* fetchInPieces(client: ImapFlow, uid: number, pieceBytes: number): AsyncGenerator<Buffer> {
  for (let offset = 0; ; ) {
    const res = await client.fetchOne(String(uid), { uid: true, source: { start: offset, maxLength: pieceBytes } }, { uid: true });
    if (!client.usable) throw new MailboxError('CONNECTION_FAILED', `connection lost while fetching UID ${uid} at byte ${offset}`);
    // Past the end the server answers an empty string, which arrives as no source at all.
    const piece = res ? (res.source ?? (offset > 0 ? Buffer.alloc(0) : undefined)) : undefined;
    if (!piece) throw new MailboxError('PROTOCOL_ERROR', `the server returned no data for UID ${uid} at byte ${offset} (expunged meanwhile?)`);
    if (piece.length > 0) yield piece;
    offset += piece.length;
    if (piece.length < pieceBytes) return;
  }
}
