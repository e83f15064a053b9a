import type { ImapFlow } from 'imapflow';
import type { Strategy } from '@postbote/connector-model';
import { MailboxError, adviseStartTls, emptyCounts, keepOversize, tally, withDeadline, type MessageSink, type ResolvedImapFolders, type RunCounts, type RunMemory, type RunLog, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { connectImap, startTlsOffered, toMailboxError } from './imap-connect';
import { IdleSession, sessionKey } from './imap-idle';
import { personalNamespace, resolveFolder } from './folder-resolver';
import { DEFAULT_FETCH_PLAN, fetchGroups, fetchInPieces, fetchShared, uidSet, type Chosen, type FetchPlan } from './imap-fetch';
import { listTail, type TailStart } from './imap-tail';

export interface ImapRunSettings {
  readonly folder: string;
  readonly strategy: Strategy;
  readonly moveTo: string | null;
  readonly batchSize: number;
  readonly reprocess: boolean;
  readonly fetchTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Keep the connection in IDLE after the run (where the server offers IDLE). */
  readonly push: boolean;
}

export interface ImapRunResult extends RunCounts {
  /** More new messages wait than this run's batch took. */
  more: boolean;
}

/**
 * One poll of an IMAP folder: connect, find new messages (oldest first, at most a batch),
 * fetch them with as few commands as the protocol allows while storage commits the
 * earlier ones, and apply the strategy — one command per UID set — only to messages
 * storage confirmed. A failure at any point leaves every message not yet confirmed
 * untouched.
 */
export async function pollImap(
  access: ServerAccess,
  settings: ImapRunSettings,
  memory: RunMemory,
  sink: MessageSink,
  log: RunLog,
  signal: AbortSignal,
  plan: FetchPlan = DEFAULT_FETCH_PLAN,
): Promise<ImapRunResult> {
  const key = sessionKey(access, settings.folder);
  const taken = settings.push && memory.session instanceof IdleSession && memory.session.key === key ? memory.session.take() : undefined;
  const kept = taken?.client;
  if (!kept) dropSession(memory);
  const client = kept ?? (await connectImap(access, settings.fetchTimeoutMs, signal));
  if (!kept && startTlsOffered(client)) adviseStartTls(log, 'STARTTLS');
  let keep = false;
  const state: RunState = { exists: 0, handledUpTo: undefined };
  try {
    const result = await withDeadline(
      settings.fetchTimeoutMs,
      run(client, settings, memory, sink, log, plan, state, `${key}${JSON.stringify([settings.strategy === 'MOVE' ? settings.moveTo : null])}`, taken?.tail),
      () => new MailboxError('FETCH_TIMEOUT', `the run exceeded the fetch timeout (${settings.fetchTimeoutMs} ms); it continues next poll`),
      () => client.close(),
      signal,
    );
    keep = settings.push && client.usable && !signal.aborted && canIdle(client, memory, log);
    return result;
  } catch (err) {
    memory.imapFolders = undefined;
    throw toMailboxError(err, access);
  } finally {
    if (keep) keepSession(client, access, kept, key, memory, state, settings.reprocess && settings.strategy === 'MARK_READ');
    else if (kept) dropSession(memory);
    else if (client.usable) await client.logout().catch(() => client.close());
    else client.close();
  }
}

/** Whether the server offers IDLE; says once per actor that it does not (the connector then polls). */
function canIdle(client: ImapFlow, memory: RunMemory, log: RunLog): boolean {
  if (client.capabilities.has('IDLE')) return true;
  if (!memory.pushUnavailableSaid) {
    memory.pushUnavailableSaid = true;
    log('INFO', 'PUSH_UNAVAILABLE', 'the server does not offer IMAP IDLE; the connector polls at its interval instead');
  }
  return false;
}

/** After a successful run of a push connector: the connection waits in IDLE for the next one. */
function keepSession(client: ImapFlow, access: ServerAccess, kept: ImapFlow | undefined, key: string, memory: RunMemory, state: RunState, wakeOnUnseen: boolean): void {
  if (kept && memory.session instanceof IdleSession) {
    memory.session.wakeOnUnseen = wakeOnUnseen;
    memory.session.handledUpTo = state.handledUpTo;
    return memory.session.release();
  }
  // A new session's listener missed what the server announced during this run.
  const session: IdleSession = new IdleSession(
    client,
    access,
    key,
    () => memory.wake?.(),
    () => {
      if (memory.session === session) memory.session = undefined;
    },
  );
  session.wakeOnUnseen = wakeOnUnseen;
  session.handledUpTo = state.handledUpTo;
  memory.session = session;
  if ((client.mailbox ? client.mailbox.exists : 0) > state.exists) session.announced('new');
  session.release();
}

function dropSession(memory: RunMemory): void {
  memory.session?.close();
  memory.session = undefined;
}

async function resolveFolders(client: ImapFlow, s: ImapRunSettings, key: string): Promise<ResolvedImapFolders> {
  const list = (await client.list()).map((f) => ({ path: f.path, delimiter: f.delimiter }));
  const { prefix } = personalNamespace(client);
  const target = s.strategy === 'MOVE' && s.moveTo ? resolveFolder(s.moveTo, list, prefix).path : null;
  const folder = resolveFolder(s.folder, list, prefix);
  return { key, folder: folder.path, delimiter: folder.delimiter, target };
}

/**
 * imapflow LISTs a folder before its first SELECT on a connection unless its per-connection
 * folder cache (a runtime property its types do not declare) already knows it; the listing
 * only decorates the mailbox object (delimiter, special use), which we do not read. Seeding
 * the entry from the kept paths saves that round trip on every poll's fresh connection.
 */
function seedFolderCache(client: ImapFlow, known: ResolvedImapFolders): void {
  const cache = (client as unknown as { folders?: unknown }).folders;
  if (cache instanceof Map && !cache.has(known.folder)) cache.set(known.folder, { path: known.folder, delimiter: known.delimiter, flags: new Set(), listed: true });
}

/**
 * INBOX needs no listing: every server has it under that name, whatever case the connector
 * wrote it in (RFC 3501 §5.1), and without a move target there is nothing else to resolve —
 * a connector's first run (after any restart) goes from its login straight to SELECT. Besides
 * the round trip: on Dovecot, a LIST in the session makes the SELECT of a large Maildir that
 * follows cost the server 0.17–0.3 s of CPU at 10,000 messages (1 ms without; benchmarks.md),
 * which a fleet's cold start would pay once per connector.
 */
function inboxOnly(client: ImapFlow, s: ImapRunSettings, key: string): ResolvedImapFolders | undefined {
  if (s.folder.toUpperCase() !== 'INBOX' || s.strategy === 'MOVE') return undefined;
  return { key, folder: 'INBOX', delimiter: personalNamespace(client).delimiter ?? '/', target: null };
}

/**
 * Selects the run's folder. The server's paths for the folder and move target are listed
 * (LIST, LSUB) once and kept in the actor's memory, not on every run (INBOX alone is never
 * listed, see inboxOnly): a quiet poll goes from its login straight to SELECT. A run woken
 * on a kept session finds its folder still selected (the
 * session waited in IDLE on it, imapflow kept its counts from the server's announcements):
 * it goes straight to the search, three round trips sooner than a fresh run — on a push
 * wake-up those were most of what a distant server adds to the delay. A folder that is
 * gone by its kept path (SELECT answers NO) is listed afresh at once; a failed run forgets
 * the paths, so a move target renamed on the server is found again by the next run.
 */
async function selectFolder(client: ImapFlow, s: ImapRunSettings, memory: RunMemory, key: string): Promise<{ box: { exists: number; uidValidity: bigint; uidNext: number }; target: string | null }> {
  const known = memory.imapFolders?.key === key ? memory.imapFolders : inboxOnly(client, s, key);
  if (known) {
    const open = client.mailbox;
    if (open && open.path === known.folder && !open.readOnly) return { box: open, target: known.target };
    seedFolderCache(client, known);
    try {
      return { box: await client.mailboxOpen(known.folder), target: known.target };
    } catch (err) {
      if ((err as { responseStatus?: string }).responseStatus !== 'NO') throw err;
    }
  }
  const folders = await resolveFolders(client, s, key);
  memory.imapFolders = folders;
  return { box: await client.mailboxOpen(folders.folder), target: folders.target };
}

/** What a run tells the session it leaves behind. */
interface RunState {
  /** Messages in the folder when the run selected it (or found it selected). */
  exists: number;
  /** Set when the run left nothing behind: every message with a UID up to this was handled or is no candidate. */
  handledUpTo: number | undefined;
}

/** What a run looks for: unseen mail for MARK_READ; for the others everything not deleted (they take stored mail away). */
function wanted(strategy: Strategy): { seen?: false; deleted: false } {
  return strategy === 'MARK_READ' ? { seen: false, deleted: false } : { deleted: false };
}

/** Whether a listed message's flags are what `wanted` searches for. */
function isCandidate(flags: ReadonlySet<string>, strategy: Strategy): boolean {
  return !flags.has('\\Deleted') && (wanted(strategy).seen !== false || !flags.has('\\Seen'));
}

/**
 * `tail`: the run was woken by new mail on the kept connection, and every message up to
 * `tail.from` was handled by an earlier run on it; it lists only what is above (listTail), the
 * newest messages' text with the listing, where a run otherwise searches the whole folder
 * and lists sizes before it fetches (decision 0035).
 */
async function run(client: ImapFlow, s: ImapRunSettings, memory: RunMemory, sink: MessageSink, log: RunLog, plan: FetchPlan, state: RunState, key: string, tail: TailStart | undefined): Promise<ImapRunResult> {
  const { box, target } = await selectFolder(client, s, memory, key);
  state.exists = box.exists;
  const uidValidity = Number(box.uidValidity);
  if (memory.uidValidity !== undefined && memory.uidValidity !== uidValidity) {
    // New UIDs for everything: source keys change, the content key (Message-ID + hash)
    // keeps already stored mail from triggering again.
    log('WARN', 'UIDVALIDITY_CHANGED', `UIDVALIDITY of "${s.folder}" changed from ${memory.uidValidity} to ${uidValidity}; messages are matched by content from now on`);
    memory.oversize.clear();
    tail = undefined;
  }
  memory.uidValidity = uidValidity;

  const counts: ImapRunResult = { ...emptyCounts(), more: false };
  // What this run will have handled when it leaves nothing behind: everything up to the
  // folder's last UID at its selection (the search below sees all of those), and whatever
  // it lists above that.
  let upTo = Math.max(tail?.from ?? 0, Number.isSafeInteger(box.uidNext) ? box.uidNext - 1 : 0);
  const picker = new Picker(s, memory, uidValidity, counts, log);
  const confirmed = new Confirmed(counts, log);
  const put = async (m: Chosen, content: Uint8Array | AsyncIterable<Uint8Array>) => {
    const { outcome } = await sink.put({
      source: { kind: 'IMAP', folder: s.folder, uidValidity, uid: m.uid },
      // With reprocess on, a message marked unread again has a new MODSEQ (flag changes
      // bump it): a new occurrence, processed again. A retry after a crash before the
      // \Seen flag was set sees the same MODSEQ: same occurrence, a duplicate.
      occurrence: s.reprocess && s.strategy === 'MARK_READ' && m.modseq !== undefined ? `modseq:${m.modseq}` : '',
      content,
    });
    confirmed.track(m.uid, outcome);
  };
  let failed = false;
  try {
    let listed: AsyncIterable<readonly Chosen[]> | Iterable<readonly Chosen[]> = [];
    if (box.exists > 0 && tail !== undefined) {
      // Woken by new mail: a message whose whole text came with the listing is stored as it
      // arrives (the first message's event does not wait for the command's end).
      const rest = await listTail(client, tail, s.reprocess, async (m) => {
        upTo = Math.max(upTo, m.uid);
        if (!isCandidate(m.flags, s.strategy)) return true;
        if (!m.source || picker.full) return false;
        counts.candidates++;
        if (picker.take(m)) await put(m, m.source);
        return true;
      });
      for (const m of rest) upTo = Math.max(upTo, m.uid);
      const work = rest.filter((m) => isCandidate(m.flags, s.strategy));
      counts.candidates += work.length;
      listed = [work];
    } else if (box.exists > 0) {
      const uids = ((await client.search(wanted(s.strategy), { uid: true })) || []).sort((a, b) => a - b);
      counts.candidates = uids.length;
      keepOversize(memory, new Set(uids.map((uid) => `${uidValidity}:${uid}`)));
      upTo = Math.max(upTo, uids.at(-1) ?? 0);
      listed = sizesOf(client, uids, s);
    }
    for await (const chosen of choose(listed, picker)) {
      for (const group of fetchGroups(chosen, plan)) {
        if (group.kind === 'fetched') {
          await put(group.message, group.source);
        } else if (group.kind === 'large') {
          await put(group.message, fetchInPieces(client, group.message.uid, plan.largeBytes));
        } else {
          const byUid = new Map(group.messages.map((m) => [m.uid, m]));
          for await (const f of fetchShared(client, group.messages.map((m) => m.uid))) {
            const m = byUid.get(f.uid);
            if (m) await put(m, f.source);
          }
        }
        // Between commands (never during a FETCH, which waits for us): act on what storage
        // has confirmed so far, while it commits the rest.
        await postProcess(client, s, confirmed.take(), target, counts);
      }
    }
    await confirmed.settled();
    counts.more = counts.candidates - counts.skippedOversize > picker.taken;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // Whatever storage confirmed is acted on even if the run fails later; the rest stays
    // untouched and comes again next run (a duplicate then, if it was stored after all).
    if (client.usable) {
      await postProcess(client, s, confirmed.take(), target, counts).catch((err: unknown) => {
        if (!failed) throw err;
      });
    }
  }
  // A refused message is tried again by the next run, one beyond the batch comes next run:
  // either makes the next run search.
  if (!counts.more && counts.refused === 0) state.handledUpTo = upTo;
  return counts;
}

/** UIDs per size listing: a short first one, so the first fetch starts soon (~20 ms, not ~80). */
const FIRST_SLICE = 100;
const SLICE = 500;

/**
 * The searched UIDs with their sizes, a slice at a time (the first FIRST_SLICE, then SLICE):
 * sizes are listed between the fetches, so storage works on the first messages while the
 * rest are listed (a 10,000-message backlog would otherwise wait for 20 size listings before
 * its first message is fetched). Messages expunged meanwhile are absent.
 */
async function* sizesOf(client: ImapFlow, uids: readonly number[], s: ImapRunSettings): AsyncGenerator<Chosen[]> {
  for (let i = 0; i < uids.length; ) {
    const slice = uids.slice(i, i + (i === 0 ? FIRST_SLICE : SLICE));
    i += slice.length;
    const meta = new Map<number, { size: number; modseq: bigint | undefined }>();
    for await (const m of client.fetch(uidSet(slice), { uid: true, size: true, ...(s.reprocess ? { modseq: true } : {}) }, { uid: true })) {
      meta.set(m.uid, { size: m.size ?? 0, modseq: m.modseq });
    }
    yield slice.flatMap((uid) => {
      const m = meta.get(uid);
      return m ? [{ uid, ...m }] : [];
    });
  }
}

/**
 * Which listed messages this run fetches: one over the size cap is skipped without being
 * downloaded (said once per message), and the batch fills with the ones after it.
 */
class Picker {
  taken = 0;

  constructor(
    private readonly s: ImapRunSettings,
    private readonly memory: RunMemory,
    private readonly uidValidity: number,
    private readonly counts: RunCounts,
    private readonly log: RunLog,
  ) {}

  get full(): boolean {
    return this.taken >= this.s.batchSize;
  }

  take(m: Chosen): boolean {
    if (m.size > this.s.maxMessageBytes) {
      this.counts.skippedOversize++;
      const key = `${this.uidValidity}:${m.uid}`;
      if (!this.memory.oversize.has(key)) {
        this.memory.oversize.add(key);
        this.log('WARN', 'SIZE_CAP_SKIPPED', `message UID ${m.uid} (${m.size} bytes) exceeds the size cap of ${this.s.maxMessageBytes} bytes; left untouched on the server`);
      }
      return false;
    }
    if (this.full) return false;
    this.taken++;
    return true;
  }
}

/** Sizes first (cheap): the picked messages of each listed slice, until the batch is full (no further slice is listed then). */
async function* choose(listed: AsyncIterable<readonly Chosen[]> | Iterable<readonly Chosen[]>, picker: Picker): AsyncGenerator<Chosen[]> {
  for await (const slice of listed) {
    const chosen = slice.filter((m) => picker.take(m));
    if (chosen.length) yield chosen;
    if (picker.full) return;
  }
}

/** Storage's answers as they arrive: which UIDs may be post-processed now. */
class Confirmed {
  #ready: number[] = [];
  #pending = new Set<Promise<void>>();

  constructor(
    private readonly counts: RunCounts,
    private readonly log: RunLog,
  ) {}

  track(uid: number, outcome: Promise<StoreOutcome>): void {
    const p = outcome.then((o) => {
      if (tally(this.counts, o, `message UID ${uid}`, this.log)) this.#ready.push(uid);
    });
    this.#pending.add(p);
    // A failed outcome (storage unreachable) surfaces through settled(); never unhandled.
    p.then(
      () => this.#pending.delete(p),
      () => undefined,
    );
  }

  /** UIDs confirmed since the last call. */
  take(): number[] {
    return this.#ready.splice(0);
  }

  /** Waits for every outcome; rejects with the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.#pending);
  }
}

// Runs only for messages storage confirmed (stored or already known), one command per set.
async function postProcess(client: ImapFlow, s: ImapRunSettings, uids: readonly number[], target: string | null, counts: RunCounts): Promise<void> {
  if (uids.length === 0) return;
  const range = uidSet(uids);
  switch (s.strategy) {
    case 'MARK_READ':
      await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
      break;
    case 'DELETE':
      // imapflow uses UID EXPUNGE when the server has UIDPLUS, so other messages flagged
      // \Deleted by someone else are not expunged with ours.
      await client.messageDelete(range, { uid: true });
      break;
    case 'MOVE':
      if (!target) throw new MailboxError('FOLDER_NOT_FOUND', 'move target missing');
      // MOVE where the server has it, COPY + \Deleted + UID EXPUNGE otherwise (imapflow).
      await client.messageMove(range, target, { uid: true });
      break;
  }
  counts.postProcessed += uids.length;
}
