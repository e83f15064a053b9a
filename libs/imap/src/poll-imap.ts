import type { ImapFlow } from 'imapflow';
import type { Strategy } from '@postbote/connector-model';
import { MailboxError, emptyCounts, withDeadline, type RunCounts, type RunLog, type ServerAccess, type StoreMessage } from '@postbote/mailbox';
import { connectImap, toMailboxError } from './imap-connect';
import { resolveFolder, type ServerFolder } from './folder-resolver';

export interface ImapRunSettings {
  readonly folder: string;
  readonly strategy: Strategy;
  readonly moveTo: string | null;
  readonly batchSize: number;
  readonly reprocess: boolean;
  readonly fetchTimeoutMs: number;
  readonly maxMessageBytes: number;
}

/** What a connector remembers between runs (in memory; losing it only costs a log line). */
export interface ImapMemory {
  uidValidity?: number;
  /** UIDs already reported as over the size cap, so the log says it once. */
  oversize: Set<string>;
}

export interface ImapRunResult extends RunCounts {
  /** More new messages wait than this run's batch took. */
  more: boolean;
}

/**
 * One poll of an IMAP folder: connect, find new messages (oldest first, at most a batch),
 * stream each one to storage, and only after storage confirmed apply the strategy on the
 * server. A failure at any point leaves every message not yet confirmed untouched.
 */
export async function pollImap(
  access: ServerAccess,
  settings: ImapRunSettings,
  memory: ImapMemory,
  store: StoreMessage,
  log: RunLog,
  signal: AbortSignal,
): Promise<ImapRunResult> {
  const client = await connectImap(access, settings.fetchTimeoutMs, signal);
  try {
    return await withDeadline(
      settings.fetchTimeoutMs,
      run(client, settings, memory, store, log),
      () => new MailboxError('FETCH_TIMEOUT', `the run exceeded the fetch timeout (${settings.fetchTimeoutMs} ms); it continues next poll`),
      () => client.close(),
      signal,
    );
  } catch (err) {
    throw toMailboxError(err, access);
  } finally {
    if (client.usable) await client.logout().catch(() => client.close());
    else client.close();
  }
}

async function folders(client: ImapFlow): Promise<{ list: ServerFolder[]; prefix: string }> {
  const list = (await client.list()).map((f) => ({ path: f.path, delimiter: f.delimiter }));
  const ns = (client as unknown as { namespaces?: { personal?: Array<{ prefix?: string }> } }).namespaces;
  return { list, prefix: ns?.personal?.[0]?.prefix ?? '' };
}

async function run(client: ImapFlow, s: ImapRunSettings, memory: ImapMemory, store: StoreMessage, log: RunLog): Promise<ImapRunResult> {
  const { list, prefix } = await folders(client);
  const folder = resolveFolder(s.folder, list, prefix);
  const target = s.strategy === 'MOVE' && s.moveTo ? resolveFolder(s.moveTo, list, prefix) : null;
  const box = await client.mailboxOpen(folder.path);
  const uidValidity = Number(box.uidValidity);
  if (memory.uidValidity !== undefined && memory.uidValidity !== uidValidity) {
    // New UIDs for everything: source keys change, the content key (Message-ID + hash)
    // keeps already stored mail from triggering again.
    log('WARN', 'UIDVALIDITY_CHANGED', `UIDVALIDITY of "${s.folder}" changed from ${memory.uidValidity} to ${uidValidity}; messages are matched by content from now on`);
    memory.oversize.clear();
  }
  memory.uidValidity = uidValidity;

  const counts: ImapRunResult = { ...emptyCounts(), more: false };
  if (box.exists === 0) return counts;
  const query = s.strategy === 'MARK_READ' ? { seen: false, deleted: false } : { deleted: false };
  const uids = ((await client.search(query, { uid: true })) || []).sort((a, b) => a - b);
  counts.candidates = uids.length;
  if (uids.length === 0) return counts;

  // Sizes first (cheap), so an oversized message is skipped without being downloaded and
  // the batch fills with the ones after it.
  const chosen: Array<{ uid: number; size: number; modseq: bigint | undefined }> = [];
  for (let i = 0; i < uids.length && chosen.length < s.batchSize; i += 500) {
    const slice = uids.slice(i, i + 500);
    const meta = new Map<number, { size: number; modseq: bigint | undefined }>();
    for await (const m of client.fetch(slice.join(','), { uid: true, size: true, ...(s.reprocess ? { modseq: true } : {}) }, { uid: true })) {
      meta.set(m.uid, { size: m.size ?? 0, modseq: m.modseq });
    }
    for (const uid of slice) {
      const m = meta.get(uid);
      if (!m) continue; // expunged meanwhile
      if (m.size > s.maxMessageBytes) {
        counts.skippedOversize++;
        const key = `${uidValidity}:${uid}`;
        if (!memory.oversize.has(key)) {
          memory.oversize.add(key);
          log('WARN', 'SIZE_CAP_SKIPPED', `message UID ${uid} (${m.size} bytes) exceeds the size cap of ${s.maxMessageBytes} bytes; left untouched on the server`);
        }
        continue;
      }
      if (chosen.length < s.batchSize) chosen.push({ uid, ...m });
    }
  }
  counts.more = counts.candidates - counts.skippedOversize > chosen.length;

  for (const m of chosen) {
    const { content } = await client.download(String(m.uid), undefined, { uid: true });
    const outcome = await store({
      source: { kind: 'IMAP', folder: s.folder, uidValidity, uid: m.uid },
      size: m.size,
      // With reprocess on, a message marked unread again has a new MODSEQ (flag changes
      // bump it): a new occurrence, processed again. A retry after a crash before the
      // \Seen flag was set sees the same MODSEQ: same occurrence, a duplicate.
      occurrence: s.reprocess && s.strategy === 'MARK_READ' && m.modseq !== undefined ? `modseq:${m.modseq}` : '',
      content,
    });
    if (outcome.duplicate) counts.duplicates++;
    else counts.stored++;
    await postProcess(client, s, m.uid, target);
    counts.postProcessed++;
  }
  return counts;
}

// Runs only after storage confirmed the message (stored or already known).
async function postProcess(client: ImapFlow, s: ImapRunSettings, uid: number, target: ServerFolder | null): Promise<void> {
  const range = String(uid);
  switch (s.strategy) {
    case 'MARK_READ':
      await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
      return;
    case 'DELETE':
      // imapflow uses UID EXPUNGE when the server has UIDPLUS, so other messages flagged
      // \Deleted by someone else are not expunged with ours.
      await client.messageDelete(range, { uid: true });
      return;
    case 'MOVE':
      if (!target) throw new MailboxError('FOLDER_NOT_FOUND', 'move target missing');
      // MOVE where the server has it, COPY + \Deleted + UID EXPUNGE otherwise (imapflow).
      await client.messageMove(range, target.path, { uid: true });
      return;
  }
}
