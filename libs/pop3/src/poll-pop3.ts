import { Readable } from 'node:stream';
import { MailboxError, emptyCounts, withDeadline, type RunCounts, type RunLog, type ServerAccess, type StoreMessage } from '@postbote/mailbox';
import { Pop3ErrResponse, list, quit, retr, uidl } from './pop3-commands';
import { openPop3 } from './pop3-session';

export interface Pop3RunSettings {
  readonly batchSize: number;
  readonly fetchTimeoutMs: number;
  readonly maxMessageBytes: number;
}

export interface Pop3Memory {
  /** UIDLs already reported as over the size cap. */
  oversize: Set<string>;
}

/** Which of these UIDLs this connector already stored (the storage service knows). */
export type KnownUidls = (uidls: string[]) => Promise<Set<string>>;

export interface Pop3RunResult extends RunCounts {
  more: boolean;
}

/**
 * One POP3 run. POP3 has no read flag, so "new" means a UIDL the connector has not stored;
 * storing a message records its UIDL durably in the same transaction, which is the
 * "mark as read". Nothing is ever deleted on the server: this client has no DELE.
 */
export async function pollPop3(
  access: ServerAccess,
  settings: Pop3RunSettings,
  memory: Pop3Memory,
  known: KnownUidls,
  store: StoreMessage,
  log: RunLog,
  signal: AbortSignal,
): Promise<Pop3RunResult> {
  const commandTimeout = Math.min(settings.fetchTimeoutMs, 120_000);
  const session = await openPop3(access, commandTimeout, undefined, signal);
  const { wire } = session;
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
        for (const m of chosen) {
          const outcome = await store({ source: { kind: 'POP3', uidl: m.uidl }, size: m.size, occurrence: '', content: Readable.from(retr(wire, m.n, commandTimeout)) });
          if (outcome.duplicate) counts.duplicates++;
          else counts.stored++;
          counts.postProcessed++;
        }
        await quit(wire, commandTimeout);
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
