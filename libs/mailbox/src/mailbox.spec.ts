import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import { withDeadline } from './deadline';
import { sourceAddressFromEnv } from './source-address';
import { tlsContextFor } from './tls-trust';
import { createCertificateAuthority } from '@postbote/crypto';
import { MailboxError, classifySocketError } from './mailbox-errors';
import { emptyCounts, keepOversize, tally, type RunLogLevel, type RunMemory } from './mailbox-types';

describe('withDeadline', () => {
  it('returns the work\'s result in time, and cuts the connection and fails once the deadline passes', async () => {
    assert.equal(await withDeadline(1_000, Promise.resolve(7), () => new Error('late'), () => assert.fail('not cut')), 7);
    let cut = false;
    await assert.rejects(
      withDeadline(20, new Promise(() => undefined), () => new MailboxError('FETCH_TIMEOUT', 'late'), () => (cut = true)),
      (e: unknown) => e instanceof MailboxError && e.failure === 'FETCH_TIMEOUT',
    );
    assert.ok(cut);
  });

  it('fails with the abort reason when stopped', async () => {
    const ac = new AbortController();
    const run = withDeadline(10_000, new Promise(() => undefined), () => new Error('late'), () => undefined, ac.signal);
    ac.abort(new Error('connector stopped'));
    await assert.rejects(run, /connector stopped/);
  });
});

describe('mailbox failures', () => {
  it('classify socket errors and say what may be retried', () => {
    assert.equal(classifySocketError({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }), 'TLS_FAILED');
    assert.equal(classifySocketError({ code: 'ETIMEDOUT' }), 'CONNECT_TIMEOUT');
    assert.equal(classifySocketError({ code: 'ECONNREFUSED' }), 'CONNECTION_FAILED');
    assert.equal(new MailboxError('AUTH_FAILED', 'no').retryable, false);
    assert.equal(new MailboxError('STORE_FAILED', 'down').retryable, true);
    assert.equal(new MailboxError('CREDENTIALS_UNAVAILABLE', 'down').code, 'UNAVAILABLE');
  });

  it('tally counts outcomes and logs a refusal naming the message', () => {
    const counts = emptyCounts();
    const logs: Array<[RunLogLevel, string, string]> = [];
    const log = (l: RunLogLevel, c: string, m: string) => void logs.push([l, c, m]);
    assert.equal(tally(counts, { kind: 'stored' }, 'UID 1', log), true);
    assert.equal(tally(counts, { kind: 'duplicate' }, 'UID 2', log), true);
    assert.equal(tally(counts, { kind: 'refused', code: 'TOO_LARGE', message: 'too big' }, 'UID 3', log), false);
    assert.deepEqual([counts.stored, counts.duplicates, counts.refused], [1, 1, 1]);
    assert.equal(logs[0]?.[1], 'STORE_REFUSED');
    assert.match(logs[0]?.[2] ?? '', /UID 3 was not stored \(TOO_LARGE: too big\)/);
  });

  it('forgets oversize reports of messages that left the server', () => {
    const memory: RunMemory = { oversize: new Set(['7:1', '7:2', '7:3']) };
    keepOversize(memory, new Set(['7:2', '7:9']));
    assert.deepEqual([...memory.oversize], ['7:2']);
  });
});

describe('FETCHER_SOURCE_ADDRESS', () => {
  it('is an IP address or unset; anything else stops the start naming the variable', () => {
    assert.equal(sourceAddressFromEnv(new EnvReader({})), null);
    assert.equal(sourceAddressFromEnv(new EnvReader({ FETCHER_SOURCE_ADDRESS: ' 192.0.2.10 ' })), '192.0.2.10');
    assert.equal(sourceAddressFromEnv(new EnvReader({ FETCHER_SOURCE_ADDRESS: '2001:db8::5' })), '2001:db8::5');
    for (const bad of ['egress.example.com', '192.0.2.300', '10.0.0.1:25']) {
      assert.throws(() => sourceAddressFromEnv(new EnvReader({ FETCHER_SOURCE_ADDRESS: bad })), (e: unknown) => e instanceof ConfigError && /FETCHER_SOURCE_ADDRESS/.test(String((e as Error).message) + JSON.stringify(e)));
    }
  });
});

describe('tlsContextFor', () => {
  it('builds one context per CA set and reuses it', () => {
    const pem = createCertificateAuthority({ commonName: 'Test CA', days: 1 }).certPem;
    assert.equal(tlsContextFor(pem), tlsContextFor(pem));
    assert.equal(tlsContextFor(null), tlsContextFor(null));
    assert.notEqual(tlsContextFor(pem), tlsContextFor(null));
  });
});
