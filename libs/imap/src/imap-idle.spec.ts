import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { ImapFlow } from 'imapflow';
import type { ServerAccess } from '@postbote/mailbox';
import { IdleSession } from './imap-idle';

/** What IdleSession uses of imapflow: events, `usable`, `idle()` (ended by the test), logout/close. */
class FakeClient extends EventEmitter {
  usable = true;
  idles = 0;
  idleAnswer: boolean | undefined = undefined;
  #end: (() => void) | undefined;
  idle(): Promise<boolean | undefined> {
    this.idles++;
    if (this.idleAnswer === false) return Promise.resolve(false);
    return new Promise((resolve) => (this.#end = () => resolve(undefined)));
  }
  /** The server or a command ends the current IDLE. */
  endIdle(): void {
    const end = this.#end;
    this.#end = undefined;
    end?.();
  }
  async logout(): Promise<void> {
    this.close();
  }
  close(): void {
    if (!this.usable) return;
    this.usable = false;
    this.endIdle();
    this.emit('close');
  }
}

function session(now: { t: number }) {
  const client = new FakeClient();
  const calls = { wakes: 0, gone: 0 };
  const s = new IdleSession(
    client as unknown as ImapFlow,
    {} as ServerAccess,
    'k',
    () => void calls.wakes++,
    () => void calls.gone++,
    () => now.t,
  );
  return { client, s, calls };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('IdleSession', () => {
  it('wakes on a higher EXISTS while waiting, not on a lower one', async () => {
    const { client, s, calls } = session({ t: 0 });
    s.release();
    await tick();
    client.emit('exists', { count: 3, prevCount: 2 });
    client.emit('exists', { count: 2, prevCount: 3 });
    assert.equal(calls.wakes, 1);
  });

  it('remembers mail announced while a run holds the connection and wakes when it is released', async () => {
    const { client, s, calls } = session({ t: 0 });
    s.release();
    await tick();
    assert.equal(s.take()?.client, client as unknown as ImapFlow);
    client.endIdle();
    client.emit('exists', { count: 5, prevCount: 4 });
    assert.equal(calls.wakes, 0, 'not during the run');
    s.release();
    assert.equal(calls.wakes, 1);
  });

  it('a run woken by new mail alone lists from where the last complete run left off; any other run searches', async () => {
    const { client, s } = session({ t: 0 });
    s.wakeOnUnseen = true;
    const woken = (announce: () => void) => {
      s.handledUpTo = 7;
      s.release();
      announce();
      return s.take()?.tail?.from;
    };
    assert.equal(woken(() => client.emit('exists', { count: 3, prevCount: 2 })), 7, 'new mail');
    assert.equal(woken(() => undefined), undefined, 'nothing announced: the interval\'s run');
    assert.equal(woken(() => client.emit('flags', { flags: new Set() })), undefined, 'a message unread again');
    assert.equal(woken(() => [client.emit('exists', { count: 4, prevCount: 3 }), client.emit('flags', { flags: new Set() })]), undefined, 'both');
    // Where the new messages start: the count at release, less those expunged below it since.
    Object.assign(client, { mailbox: { exists: 5 } });
    s.handledUpTo = 9;
    s.release();
    client.emit('expunge', { seq: 2 });
    client.emit('expunge', { seq: 7 }); // one that came after the release
    client.emit('exists', { count: 6, prevCount: 5 });
    assert.deepEqual(s.take()?.tail, { from: 9, after: 4 });
    s.release(); // the last run left work behind: handledUpTo stays unset
    client.emit('exists', { count: 5, prevCount: 4 });
    assert.equal(s.take()?.tail, undefined);
  });

  it('issues IDLE again when the server or the restart timer ends it, but not while a run holds the connection', async () => {
    const { client, s } = session({ t: 0 });
    s.release();
    await tick();
    assert.equal(client.idles, 1);
    client.endIdle(); // maxIdleTime elapsed
    await tick();
    assert.equal(client.idles, 2);
    s.take();
    client.endIdle();
    await tick();
    assert.equal(client.idles, 2);
  });

  it('reconnects (wakes) when a connection that waited a minute dies, not when a fresh one does', async () => {
    const now = { t: 0 };
    const old = session(now);
    old.s.release();
    now.t += 61_000;
    old.client.close();
    assert.deepEqual(old.calls, { wakes: 1, gone: 1 });
    assert.equal(old.s.usable, false);
    assert.equal(old.s.take(), undefined);

    const young = session(now);
    young.s.release();
    now.t += 5_000;
    young.client.close();
    assert.deepEqual(young.calls, { wakes: 0, gone: 1 }, 'a server dropping every IDLE does not cost a login a second');
  });

  it('does not wake when closed on purpose (stop, reconfigure)', async () => {
    const now = { t: 0 };
    const { s, calls } = session(now);
    s.release();
    now.t += 120_000;
    s.close();
    await tick();
    assert.deepEqual(calls, { wakes: 0, gone: 1 });
  });

  it('gives up pushing when the server refuses IDLE (falls back to the interval)', async () => {
    const { client, s } = session({ t: 0 });
    client.idleAnswer = false;
    s.release();
    await tick();
    await tick();
    assert.equal(s.usable, false);
    assert.equal(client.idles, 1, 'no spinning');
  });
});
