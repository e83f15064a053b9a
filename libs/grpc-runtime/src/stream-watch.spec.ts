import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { inWorkspace, type TokenPrincipal } from '@postbote/auth';
import { SimulatedClock } from '@postbote/backoff';
import { AuthenticationError, PermissionDeniedError, UnavailableError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { Admitted } from './gate';
import { watchCredentials } from './stream-watch';

const logger = { info: () => undefined } as unknown as Logger;
const token = (role: 'viewer' | 'admin', expiresAt: Date | null = null): TokenPrincipal => ({ kind: 'token', tokenId: 't1', name: 'tail', access: { installationAdmin: false, roles: new Map([['acme', role]]) }, expiresAt });
const verdict = (p: TokenPrincipal, workspace = 'acme'): Admitted => ({ principal: p, scope: inWorkspace(workspace) });

/** Runs a watch whose gate answers with `answer()` each time; returns what ended it. */
function watched(first: Admitted, answer: () => Promise<Admitted>) {
  const clock = new SimulatedClock(1_000_000);
  const call = new EventEmitter();
  const ended: AuthenticationError[] = [];
  let asked = 0;
  watchCredentials(call, first, () => (asked++, answer()), { clock, recheckMs: 5_000 }, logger, '/postbote.v1.TriggerService/TailEvents', (e) => ended.push(e));
  const settle = () => new Promise((r) => setImmediate(r));
  return { clock, call, ended, asked: () => asked, settle };
}

describe('watchCredentials', () => {
  it('keeps a stream whose caller still holds the same role, asking every interval', async () => {
    const w = watched(verdict(token('viewer')), async () => verdict(token('viewer')));
    for (let i = 0; i < 3; i++) {
      w.clock.increment(5_000);
      await w.settle();
    }
    assert.equal(w.asked(), 3);
    assert.equal(w.ended.length, 0);
  });

  it('ends it with UNAUTHENTICATED within one interval of a revocation', async () => {
    let revoked = false;
    const w = watched(verdict(token('viewer')), async () => {
      if (revoked) throw new AuthenticationError('unknown token');
      return verdict(token('viewer'));
    });
    w.clock.increment(5_000);
    await w.settle();
    revoked = true;
    w.clock.increment(5_000);
    await w.settle();
    assert.equal(w.ended.length, 1);
    assert.equal(w.ended[0]!.code, 'UNAUTHENTICATED');
    assert.match(w.ended[0]!.message, /are no longer valid \(revoked or expired\); call again/);
    w.clock.increment(60_000);
    await w.settle();
    assert.equal(w.asked(), 2, 'no more asking once ended');
  });

  it('ends it when the role changes, or the role no longer permits the call', async () => {
    const promoted = watched(verdict(token('viewer')), async () => verdict(token('admin')));
    promoted.clock.increment(5_000);
    await promoted.settle();
    assert.match(promoted.ended[0]!.message, /changed \(another role or workspace\)/);
    const demoted = watched(verdict(token('viewer')), async () => {
      throw new PermissionDeniedError('may not');
    });
    demoted.clock.increment(5_000);
    await demoted.settle();
    assert.match(demoted.ended[0]!.message, /no longer permit this call/);
  });

  it('ends it at the moment its token expires, between two checks', async () => {
    const w = watched(verdict(token('viewer', new Date(1_000_000 + 7_500))), async () => verdict(token('viewer', new Date(1_000_000 + 7_500))));
    w.clock.increment(5_000);
    await w.settle();
    assert.equal(w.ended.length, 0);
    w.clock.increment(2_500);
    await w.settle();
    assert.match(w.ended[0]!.message, /expired/);
  });

  it('keeps the stream while the authority is unreachable, and asks again', async () => {
    const w = watched(verdict(token('viewer')), async () => {
      throw new UnavailableError('config service unreachable');
    });
    for (let i = 0; i < 3; i++) {
      w.clock.increment(5_000);
      await w.settle();
    }
    assert.equal(w.asked(), 3);
    assert.equal(w.ended.length, 0);
  });

  it('stops watching once the call is over', async () => {
    const w = watched(verdict(token('viewer')), async () => verdict(token('viewer')));
    w.call.emit('cancelled');
    w.clock.increment(60_000);
    await w.settle();
    assert.equal(w.asked(), 0);
    assert.equal(w.clock.nextTimerIn(), undefined);
  });
});
