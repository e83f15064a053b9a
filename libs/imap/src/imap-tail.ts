import type { ImapFlow } from 'imapflow';
import type { Chosen } from './imap-fetch';

/**
 * The newest messages a woken run lists in its first command, each with the first
 * TAIL_PREFETCH_BYTES of its text: at most ~4 MiB buffered, whatever arrived.
 */
const TAIL_WINDOW = 16;
const TAIL_PREFETCH_BYTES = 256 * 1024;

/** A message above the tail's start: what the listing said, and its whole text when it fit the prefetch. */
export interface TailMessage extends Chosen {
  readonly flags: ReadonlySet<string>;
  /** The complete message (it came back shorter than the prefetch asked for); undefined: fetch it as usual. */
  readonly source: Buffer | undefined;
}

/** Where a woken run's listing starts. */
export interface TailStart {
  /** Every message with a UID up to this was handled by an earlier run on the connection. */
  readonly from: number;
  /** The folder's messages when that run released the connection, less those expunged since: the newer ones follow. */
  readonly after: number;
}

/**
 * Every message with a UID above `from` — a woken run's replacement for the search and the
 * size listing (decision 0035). One command in the usual case: the messages that arrived
 * since the last run (by sequence number, at most the newest TAIL_WINDOW) with UID, flags,
 * size and the start of their text (`FETCH n:* (UID FLAGS RFC822.SIZE
 * BODY.PEEK[]<0.262144>)`). Sequence numbers ascend with UIDs, so when the window's oldest
 * message is at most `from + 1` (or is the folder's first), the window holds them all;
 * otherwise — more arrived than the window takes, one came during the last run, UIDs
 * skipped — the UIDs between `from` and the window are listed too (flags and sizes only).
 *
 * While the window arrives, in UID order and only as long as nothing older is missing, each
 * message goes to `early`, which returns true when it dealt with it (stored it from the
 * prefetch, or found it no work); the first it cannot deal with, and everything after it,
 * is returned with the older ones, ascending, for the usual fetch once the command is over
 * (no other command can run during it).
 */
export async function listTail(client: ImapFlow, start: TailStart, modseq: boolean, early: (m: TailMessage) => Promise<boolean>): Promise<TailMessage[]> {
  const { from } = start;
  const exists = client.mailbox ? client.mailbox.exists : 0;
  const base = { uid: true, flags: true, size: true, ...(modseq ? { modseq: true } : {}) };
  const first = Math.max(1, start.after + 1, exists - TAIL_WINDOW + 1);
  const rest: TailMessage[] = [];
  const inWindow = new Set<number>();
  let oldest: number | undefined;
  // `n:*` past the last message would still answer the last one (RFC 3501 ranges are unordered).
  if (first <= exists) {
    let streaming = true;
    for await (const m of client.fetch(`${first}:*`, { ...base, source: { start: 0, maxLength: TAIL_PREFETCH_BYTES } })) {
      // Servers answer in sequence order, so the first is the oldest; the minimum keeps a
      // server that does not from listing a message twice.
      oldest = Math.min(oldest ?? m.uid, m.uid);
      inWindow.add(m.uid);
      if (m.uid <= from) continue;
      const message = listed(m, m.source);
      // Older messages above `from` may precede the window: they go first, so nothing streams.
      if (streaming && (first === 1 || oldest <= from + 1) && (await early(message))) continue;
      streaming = false;
      rest.push(message);
    }
  }
  if (exists > 0 && first > 1 && (oldest === undefined || oldest > from + 1)) {
    const below = oldest === undefined ? '*' : String(oldest - 1);
    for await (const m of client.fetch(`${from + 1}:${below}`, base, { uid: true })) if (m.uid > from && !inWindow.has(m.uid)) rest.push(listed(m, undefined));
  }
  return rest.sort((a, b) => a.uid - b.uid);
}

function listed(m: { uid: number; size?: number; modseq?: bigint; flags?: Set<string> }, source: Buffer | undefined): TailMessage {
  // A text shorter than asked for is the whole message — the server's own end of it (RFC 3501
  // §6.4.5), as fetchInPieces reads it; one as long as the prefetch may be cut and is fetched
  // whole as usual, never stored from a prefix.
  return { uid: m.uid, size: m.size ?? 0, modseq: m.modseq, flags: m.flags ?? new Set(), source: source && source.length < TAIL_PREFETCH_BYTES ? source : undefined };
}
