import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import type { ServerAccess } from '@postbote/mailbox';
import { CREDENTIALS_TTL_MS, CredentialCache, TLS_SESSION_TTL_MS, TlsSessions } from './credential-cache';

const access = (login: ServerAccess['login']): ServerAccess => ({
  host: 'mail.example.test',
  port: 993,
  security: 'SSL',
  trustedCaPem: null,
  username: 'u',
  login,
  connectTimeoutMs: 1_000,
  sourceAddress: null,
  proxy: null,
});

describe('the fetcher\'s credential cache', () => {
  it('hands back a password for the same revision within the TTL, and never after', () => {
    let now = 0;
    const cache = new CredentialCache(() => now);
    const a = access({ kind: 'PASSWORD', password: new Secret('pw') });
    cache.put('c1', 3, a);
    assert.equal(cache.get('c1', 3), a);
    now = CREDENTIALS_TTL_MS - 1;
    assert.equal(cache.get('c1', 3), a);
    now = CREDENTIALS_TTL_MS;
    assert.equal(cache.get('c1', 3), undefined, 'expired');
    assert.equal(cache.size, 0);
  });

  it('asks again after any change of the connector (a new revision) and after drop', () => {
    const cache = new CredentialCache(() => 0);
    cache.put('c1', 3, access({ kind: 'PASSWORD', password: new Secret('pw') }));
    assert.equal(cache.get('c1', 4), undefined);
    cache.put('c1', 4, access({ kind: 'PASSWORD', password: new Secret('pw2') }));
    cache.drop('c1');
    assert.equal(cache.get('c1', 4), undefined);
  });

  it('keeps no OAuth2 access token (it expires on its own schedule)', () => {
    const cache = new CredentialCache(() => 0);
    cache.put('c1', 1, access({ kind: 'OAUTH2', accessToken: new Secret('tok') }));
    assert.equal(cache.get('c1', 1), undefined);
  });

  it('sweeps entries of connectors it no longer sees once a TTL has passed', () => {
    let now = 0;
    const cache = new CredentialCache(() => now);
    cache.put('gone', 1, access({ kind: 'PASSWORD', password: new Secret('pw') }));
    now = CREDENTIALS_TTL_MS + 1;
    cache.put('other', 1, access({ kind: 'PASSWORD', password: new Secret('pw') }));
    assert.equal(cache.size, 1);
  });
});

describe('the fetcher\'s TLS sessions', () => {
  it('offers a connector\'s kept session for its revision within the TTL, never for another revision or connector', () => {
    let now = 0;
    const sessions = new TlsSessions(() => now);
    assert.equal(sessions.for('c1', 1).ticket, undefined, 'nothing kept yet: a full handshake');
    const ticket = Buffer.from('session');
    sessions.for('c1', 1).keep(ticket);
    assert.equal(sessions.for('c1', 1).ticket, ticket);
    assert.equal(sessions.for('c2', 1).ticket, undefined, 'another connector');
    assert.equal(sessions.for('c1', 2).ticket, undefined, 'a new revision may name another server or trust');
    assert.equal(sessions.for('c1', 1).ticket, undefined, 'and the old revision\'s session is gone');
    sessions.for('c1', 2).keep(ticket);
    now = TLS_SESSION_TTL_MS;
    assert.equal(sessions.for('c1', 2).ticket, undefined, 'expired');
  });

  it('a later session replaces the earlier (TLS 1.3 servers send several)', () => {
    const sessions = new TlsSessions(() => 0);
    const slot = sessions.for('c1', 1);
    slot.keep(Buffer.from('first'));
    slot.keep(Buffer.from('second'));
    assert.equal(sessions.for('c1', 1).ticket?.toString(), 'second');
    assert.equal(sessions.size, 1);
  });
});
