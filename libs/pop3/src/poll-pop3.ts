import { MailboxError, adviseStartTls, emptyCounts, keepOversize, tally, withDeadline, type MessageSink, type RunCounts, type RunMemory, type RunLog, type ServerAccess } from '@postbote/mailbox';
import { Pop3ErrResponse, list, quit, retrieve, uidl, type RetrWindow } from './pop3-commands';
import { openPop3 } from './pop3-session';

export interface Pop3RunSettings {
  readonly batchSize: number;
  readonly fetchTimeoutMs: number;
  readonly maxMessageBytes: number;
}

/** RETRs ahead of the one being read, where the server offers PIPELINING. */
export const PIPELINE_WINDOW: RetrWindow = { messages: 32, bytes: 4 * 1024 * 1024 };

/** Which of these UIDLs this connector already stored (the storage service knows). */
export type KnownUidls = (uidls: string[]) => Promise<Set<string>>;

export interface Pop3RunResult extends RunCounts {
  more: boolean;
}

/**
 * One POP3 run. POP3 has no read flag, so "new" means a UIDL the connector has not stored;
 * storing a message records its UIDL durably in the same transaction, which is the
 * "mark as read". Messages are retrieved pipelined where the server allows it, while
 * storage commits the earlier ones. Nothing is ever deleted on the server: this client
 * has no DELE.
 */
export async function pollPop3(
  access: ServerAccess,
  settings: Pop3RunSettings,
  memory: RunMemory,
  known: KnownUidls,
  sink: MessageSink,
  log: RunLog,
  signal: AbortSignal,
): Promise<Pop3RunResult> {
  const commandTimeout = Math.min(settings.fetchTimeoutMs, 120_000);
  const session = await openPop3(access, commandTimeout, undefined, signal);
  const { wire } = session;
  if (access.security === 'NONE' && session.caps.has('STLS')) adviseStartTls(log, 'STLS');
  const window: RetrWindow = session.caps.has('PIPELINING') ? PIPELINE_WINDOW : { messages: 1, bytes: 0 };
  try {
    return await withDeadline(
      settings.fetchTimeoutMs,
      (async () => {
        const counts: Pop3RunResult = { ...emptyCounts(), more: false };
        let ids: Array<{ n: number; uidl: string }>;
        try {
          ids = await uidl(wire, commandTimeout);
        } catch (err) {
          if (err instanceof Pop3ErrResponse) {
            // Guessing by message number would re-trigger or skip mail as numbers shift.
            throw new MailboxError('UIDL_UNSUPPORTED', `the server does not support UIDL (${err.text}); Postbote cannot tell new mail from old without it`);
          }
          throw err;
        }
        keepOversize(memory, new Set(ids.map((i) => i.uidl)));
        const stored = await known(ids.map((i) => i.uidl));
        const fresh = ids.filter((i) => !stored.has(i.uidl));
        counts.candidates = fresh.length;
        if (fresh.length === 0) return counts;
        const sizes = await list(wire, commandTimeout);
        const chosen: Array<{ n: number; uidl: string; size: number }> = [];
        for (const m of fresh) {
          const size = sizes.get(m.n) ?? 0;
          if (size > settings.maxMessageBytes) {
            counts.skippedOversize++;
            if (!memory.oversize.has(m.uidl)) {
              memory.oversize.add(m.uidl);
              log('WARN', 'SIZE_CAP_SKIPPED', `message ${m.uidl} (${size} bytes) exceeds the size cap of ${settings.maxMessageBytes} bytes; left on the server`);
            }
            continue;
          }
          if (chosen.length < settings.batchSize) chosen.push({ ...m, size });
        }
        counts.more = fresh.length - counts.skippedOversize > chosen.length;
        const byNumber = new Map(chosen.map((m) => [m.n, m]));
        const outcomes: Array<Promise<void>> = [];
        for await (const r of retrieve(wire, chosen, window, commandTimeout)) {
          const m = byNumber.get(r.n);
          if (!m) throw new MailboxError('PROTOCOL_ERROR', `a reply for message ${r.n}, which was not asked for`);
          if ('refused' in r) {
            log('WARN', 'RETR_REFUSED', `the server refused message ${m.uidl} (${r.refused}); tried again next run`);
            continue;
          }
          const { outcome } = await sink.put({ source: { kind: 'POP3', uidl: m.uidl }, occurrence: '', content: r.body });
          // Nothing to do on the server afterwards: storing the UIDL was the "mark as read".
          const counted = outcome.then((o) => void (tally(counts, o, `message ${m.uidl}`, log) && counts.postProcessed++));
          counted.catch(() => undefined); // surfaces through Promise.all below
          outcomes.push(counted);
        }
        await quit(wire, commandTimeout);
        await Promise.all(outcomes);
        return counts;
      })(),
      () => new MailboxError('FETCH_TIMEOUT', `the run exceeded the fetch timeout (${settings.fetchTimeoutMs} ms); it continues next poll`),
      () => wire.close(),
      signal,
    );
  } finally {
    wire.close();
  }
}
