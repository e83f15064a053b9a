import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RateLimitedError, UnavailableError } from '@postbote/errors';
import { hashSecret, mintToken, parseToken, secretMatches } from './api-token';
import { accessOf, type TokenPrincipal } from './principal';
import { RateLimiter } from './rate-limiter';
import { TokenCache, type TokenAuthenticator } from './token-cache';

describe('API tokens', () => {
  it('mint as pbt_<id>_<secret>, parse back, and match only their own hash', () => {
    // Many tokens: base64url secrets contain "_" and "-" now and then, which must not confuse parsing.
    for (let i = 0; i < 200; i++) mintAndCheck();
  });
});

function mintAndCheck(): void {
  const t = mintToken();
  assert.match(t.token, /^pbt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  const p = parseToken(t.token);
  assert.equal(p?.id, t.id);
  assert.ok(p && secretMatches(p.secret, t.secretHash));
  assert.ok(!secretMatches(p!.secret, hashSecret('other')));
  for (const bad of ['', 'pbt_', `${t.token}x`, t.token.replace('pbt_', 'pbx_'), t.token.replace(`_${t.id}_`, `_${t.id}-`), 'pbt_ZZZZZZZZZZZZ_' + 'a'.repeat(43)]) assert.equal(parseToken(bad), null, bad);
}

describe('TokenCache', () => {
  const principal = (expiresAt: Date | null = null): TokenPrincipal => ({ kind: 'token', tokenId: 'abcdefabcdef', name: 'n', access: accessOf('viewer', 'default'), expiresAt });

  function authority(answer: () => TokenPrincipal | null) {
    let calls = 0;
    let down = false;
    const a: TokenAuthenticator & { calls: () => number; setDown: (d: boolean) => void } = {
      authenticate: async () => {
        calls++;
        if (down) throw new UnavailableError('config service down');
        return answer();
      },
      calls: () => calls,
      setDown: (d) => void (down = d),
    };
    return a;
  }

  it('asks once per ttl, and asks again after it (a revocation arrives within the ttl)', async () => {
    let now = 0;
    let answer: TokenPrincipal | null = principal();
    const a = authority(() => answer);
    const cache = new TokenCache(a, { now: () => now, ttlMs: 30_000 });
    assert.ok(await cache.authenticate('t'));
    now = 29_000;
    assert.ok(await cache.authenticate('t'));
    assert.equal(a.calls(), 1);
    answer = null;
    now = 31_000;
    assert.equal(await cache.authenticate('t'), null);
    assert.equal(a.calls(), 2);
  });

  it('keeps a recent acceptance working while the authority is down, never a refusal or an unknown token', async () => {
    let now = 0;
    const a = authority(() => principal());
    const cache = new TokenCache(a, { now: () => now, ttlMs: 30_000, staleMs: 600_000 });
    await cache.authenticate('known');
    a.setDown(true);
    now = 300_000;
    assert.ok(await cache.authenticate('known'));
    await assert.rejects(cache.authenticate('unknown'), UnavailableError);
    now = 700_000;
    await assert.rejects(cache.authenticate('known'), UnavailableError);
  });

  it('never answers for a token past its expiry, cached or not', async () => {
    let now = 0;
    const cache = new TokenCache(authority(() => principal(new Date(10_000))), { now: () => now, ttlMs: 60_000 });
    assert.ok(await cache.authenticate('t'));
    now = 10_000;
    assert.equal(await cache.authenticate('t'), null);
  });

  it('stays bounded: the oldest answers make room for new ones', async () => {
    const a = authority(() => null);
    const cache = new TokenCache(a, { now: () => 0, maxEntries: 3 });
    for (let i = 0; i < 10; i++) await cache.authenticate(`t${i}`);
    assert.equal(a.calls(), 10);
    await cache.authenticate('t9');
    assert.equal(a.calls(), 10, 'a recent answer is still cached');
    await cache.authenticate('t0');
    assert.equal(a.calls(), 11, 'an old one was dropped');
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then one per interval, per key, and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, everyMs: 10_000, now: () => now, what: 'attempts' });
    limiter.take('a');
    limiter.take('a');
    assert.throws(() => limiter.take('a'), (e: unknown) => e instanceof RateLimitedError && /try again in 10 s/.test(e.message));
    limiter.take('b');
    now = 10_000;
    limiter.take('a');
    assert.throws(() => limiter.take('a'), RateLimitedError);
  });
});
