import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RunMemory } from '@postbote/mailbox';
import { STORED_UIDLS_TTL_MS, storedUidlsMemo } from './stored-uidls';

/** Storage as the memo sees it: the UIDLs it has, and every question it was asked. */
function storage(has: string[]) {
  const stored = new Set(has);
  const asked: string[][] = [];
  return { stored, asked, ask: async (uidls: string[]) => (asked.push([...uidls]), new Set(uidls.filter((u) => stored.has(u)))) };
}

describe('storedUidlsMemo (POP3: which listed messages are stored)', () => {
  const memory = (): RunMemory => ({ oversize: new Set() });

  it('asks storage about every UIDL once, then only about UIDLs it has not confirmed stored', async () => {
    const m = memory();
    const s = storage(['a', 'b', 'c']);
    let t = 0;
    const known = () => storedUidlsMemo(m, 'mbox', () => t, s.ask);
    assert.deepEqual([...(await known()(['a', 'b', 'c', 'd']))].sort(), ['a', 'b', 'c']);
    s.stored.add('d'); // stored by that run
    t += 60_000;
    assert.deepEqual([...(await known()(['a', 'b', 'c', 'd', 'e']))].sort(), ['a', 'b', 'c', 'd']);
    t += 60_000;
    assert.deepEqual([...(await known()(['a', 'b', 'c', 'd', 'e']))].sort(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(s.asked, [['a', 'b', 'c', 'd'], ['d', 'e'], ['e']]);
  });

  it('forgets UIDLs the server no longer lists, so the memory never outgrows the mailbox', async () => {
    const m = memory();
    const s = storage(['a', 'b', 'c']);
    await storedUidlsMemo(m, 'mbox', () => 0, s.ask)(['a', 'b', 'c']);
    assert.deepEqual([...(await storedUidlsMemo(m, 'mbox', () => 1, s.ask)(['c']))], ['c']);
    assert.deepEqual([...(m.pop3Stored?.uidls ?? [])], ['c']);
    // 'a' listed again (another message under a reused UIDL): storage decides, not the memory.
    s.stored.delete('a');
    assert.deepEqual([...(await storedUidlsMemo(m, 'mbox', () => 2, s.ask)(['a', 'c']))], ['c']);
    assert.deepEqual(s.asked.at(-1), ['a']);
  });

  it('asks about everything again once the TTL has passed, and for another mailbox', async () => {
    const m = memory();
    const s = storage(['a', 'b']);
    await storedUidlsMemo(m, 'mbox', () => 0, s.ask)(['a', 'b']);
    s.stored.delete('b'); // storage forgot it (dedupe keys purged, a restored backup)
    assert.deepEqual([...(await storedUidlsMemo(m, 'mbox', () => STORED_UIDLS_TTL_MS - 1, s.ask)(['a', 'b']))].sort(), ['a', 'b']);
    assert.deepEqual([...(await storedUidlsMemo(m, 'mbox', () => STORED_UIDLS_TTL_MS, s.ask)(['a', 'b']))], ['a']);
    assert.deepEqual([...(await storedUidlsMemo(m, 'other', () => STORED_UIDLS_TTL_MS, s.ask)(['a', 'b']))], ['a']);
    assert.deepEqual(s.asked, [['a', 'b'], ['a', 'b'], ['a', 'b']]);
  });

  it('remembers nothing when storage cannot answer', async () => {
    const m = memory();
    await assert.rejects(storedUidlsMemo(m, 'mbox', () => 0, async () => Promise.reject(new Error('storage down')))(['a']), /storage down/);
    assert.equal(m.pop3Stored, undefined);
  });
});
