import type { RunMemory } from '@postbote/mailbox';
import type { KnownUidls } from './poll-pop3';

/**
 * How long the UIDLs storage confirmed are taken from memory before storage is asked about
 * every listed UIDL again: how soon the fetcher follows storage forgetting one (its dedupe
 * keys purged, a database restored from a backup).
 */
export const STORED_UIDLS_TTL_MS = 60 * 60 * 1000;

/**
 * `ask`, asked only about UIDLs storage has not confirmed stored before. POP3 never deletes,
 * so a mailbox keeps every message it ever received and each run lists all of them: without
 * this, every run sent the whole listing to storage, which hashed and looked up every key —
 * per run work growing with the mailbox, not with its new mail. A stored UIDL stays stored,
 * so a confirmation is remembered (by the connector's actor, for this mailbox) until the TTL
 * ends; what storage does not have is asked again next run; UIDLs no longer listed are
 * forgotten, so the memory is never larger than the mailbox.
 */
export function storedUidlsMemo(memory: RunMemory, mailbox: string, now: () => number, ask: KnownUidls): KnownUidls {
  return async (uidls) => {
    const at = now();
    const kept = memory.pop3Stored;
    const fresh = kept && kept.mailbox === mailbox && at - kept.since < STORED_UIDLS_TTL_MS ? kept : { mailbox, since: at, uidls: new Set<string>() };
    const listed = new Set(uidls);
    for (const u of fresh.uidls) if (!listed.has(u)) fresh.uidls.delete(u);
    const unknown = uidls.filter((u) => !fresh.uidls.has(u));
    const stored = unknown.length ? await ask(unknown) : new Set<string>();
    for (const u of stored) if (listed.has(u)) fresh.uidls.add(u);
    memory.pop3Stored = fresh;
    return new Set(fresh.uidls);
  };
}
