import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addReadinessCheck, evaluateReadiness, onReadinessChange, readiness, startEndpoint, type Endpoint, type Every } from './endpoint';
import { storageMetrics } from './metrics';

describe('metrics endpoint', () => {
  let open: Endpoint;
  let guarded: Endpoint;
  const token = 'scrape-token-0123456789';

  before(async () => {
    open = await startEndpoint({ host: '127.0.0.1', port: 0 });
    guarded = await startEndpoint({ host: '127.0.0.1', port: 0, token });
  });
  after(async () => {
    await open.close();
    await guarded.close();
  });

  it('serves the counters in Prometheus text format, with process metrics', async () => {
    storageMetrics.emails.inc({ workspace: 'acme', result: 'stored' }, 3);
    const res = await fetch(`${open.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^postbote_storage_emails_total\{workspace="acme",result="stored"\} [1-9]\d*$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  it('answers /healthz always and /readyz with every check, 503 naming the failing one', async () => {
    assert.equal((await fetch(`${open.url}/healthz`)).status, 200);
    const removeOk = addReadinessCheck('db', async () => undefined);
    const ready = await fetch(`${open.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, checks: { db: 'ok' } });
    const removeBad = addReadinessCheck('kafka', () => Promise.reject(new Error('connection refused')));
    const notReady = await fetch(`${open.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ready: false, checks: { db: 'ok', kafka: 'connection refused' } });
    removeBad();
    removeOk();
  });

  it('times out a check that never answers', async () => {
    const remove = addReadinessCheck('stuck', () => new Promise(() => undefined));
    const r = await readiness(50);
    remove();
    assert.deepEqual(r, { ready: false, checks: { stuck: 'no answer within 50 ms' } });
  });

  it('wants the bearer token for /metrics when it has one, never for health', async () => {
    assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
    assert.equal((await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${guarded.url}/healthz`)).status, 200);
  });

  it('refuses other methods and paths', async () => {
    assert.equal((await fetch(`${open.url}/metrics`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${open.url}/admin`)).status, 404);
  });

  it('tells listeners when readiness changes, from one loop on the injected timer', async () => {
    let ticks = 0;
    const every: Every = () => {
      ticks++;
      return () => undefined;
    };
    const seen: Array<[boolean, boolean | undefined]> = [];
    const stopA = onReadinessChange((r, before) => void seen.push([r.ready, before]), 5_000, every);
    const stopB = onReadinessChange(() => undefined, 5_000, every);
    assert.equal(ticks, 1, 'one loop for the process');
    let up = true;
    const remove = addReadinessCheck('db', async () => {
      if (!up) throw new Error('connection refused');
    });
    await evaluateReadiness();
    await evaluateReadiness();
    up = false;
    await evaluateReadiness();
    await evaluateReadiness();
    up = true;
    await evaluateReadiness();
    assert.deepEqual(seen, [
      [true, undefined],
      [false, true],
      [true, false],
    ]);
    remove();
    stopA();
    stopB();
  });
});
