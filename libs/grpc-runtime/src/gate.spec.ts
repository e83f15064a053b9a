import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { accessOf, type TokenAuthenticator, type TokenPrincipal } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import type { Logger } from '@postbote/logging';
import { createGate } from './gate';

const VIEWER = 'pbt_0123456789ab_valid';
const VENDOR = 'pbt_0123456789ac_valid';
const PERSON = 'pbt_0123456789ad_valid';
const principals: Record<string, TokenPrincipal> = {
  [VIEWER]: { kind: 'token', tokenId: '0123456789ab', name: 'console: ann', access: accessOf('viewer', 'acme'), expiresAt: null },
  [VENDOR]: { kind: 'token', tokenId: '0123456789ac', name: 'ops', access: accessOf('installation-admin', ''), expiresAt: null },
  [PERSON]: { kind: 'token', tokenId: '0123456789ad', name: 'console: bob', access: { installationAdmin: false, roles: new Map([['acme', 'viewer'], ['globex', 'admin']]) }, expiresAt: null },
};
const tokens: TokenAuthenticator = { authenticate: async (t) => principals[t] ?? null };
const gate = createGate({ tokens, internalToken: new Secret('internal-token-0123456789'), logger: { info: () => undefined, warn: () => undefined } as unknown as Logger });
const md = (entries: Record<string, string>) => {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
};
const LIST = '/postbote.v1.ConnectorService/ListConnectors';
const CREATE_TOKEN = '/postbote.v1.AccessService/CreateToken';
const SIGN_IN = '/postbote.v1.ConsoleUserService/SignIn';
const call = (method: string, headers: Record<string, string>, certificateName?: string) => gate({ method, metadata: md(headers), peer: 'x', certificateName });

describe('the gate', () => {
  it('lets a presented API token speak for the call, over a console certificate or the internal token', async () => {
    const a = await call(LIST, { authorization: `Bearer ${VIEWER}` }, 'console');
    assert.equal(a.principal.kind === 'token' && a.principal.name, 'console: ann');
    const b = await call(LIST, { authorization: `Bearer ${VIEWER}`, 'x-postbote-internal-token': 'internal-token-0123456789' });
    assert.equal(b.principal.kind, 'token');
    // The person's rights, not the channel's: a viewer cannot sign people in even over the console's channel.
    await assert.rejects(call(SIGN_IN, { authorization: `Bearer ${VIEWER}` }, 'console'), { code: 'PERMISSION_DENIED' });
  });

  it('never falls back to the channel identity when the presented token is invalid', async () => {
    await assert.rejects(call(LIST, { authorization: 'Bearer pbt_bad' }, 'console'), { code: 'UNAUTHENTICATED' });
    await assert.rejects(call(SIGN_IN, { authorization: 'Basic abc', 'x-postbote-internal-token': 'internal-token-0123456789' }), { code: 'UNAUTHENTICATED' });
  });

  it('without a token: the certificate, then the internal token; services act for every workspace', async () => {
    assert.deepEqual(await call(SIGN_IN, {}, 'console'), { principal: { kind: 'service', service: 'console' }, scope: { every: true } });
    assert.deepEqual(await call(SIGN_IN, { 'x-postbote-internal-token': 'internal-token-0123456789' }), { principal: { kind: 'service', service: 'internal' }, scope: { every: true } });
    await assert.rejects(call(SIGN_IN, {}, 'fetcher'), { code: 'PERMISSION_DENIED' });
  });

  it('acts in the named workspace, or the home one; a role elsewhere is no role here', async () => {
    assert.deepEqual((await call(LIST, { authorization: `Bearer ${VIEWER}` })).scope, { every: false, workspace: 'acme' });
    assert.deepEqual((await call(LIST, { authorization: `Bearer ${PERSON}`, 'x-postbote-workspace': 'globex' })).scope, { every: false, workspace: 'globex' });
    await assert.rejects(call(CREATE_TOKEN, { authorization: `Bearer ${PERSON}`, 'x-postbote-workspace': 'acme' }), { code: 'PERMISSION_DENIED' }, 'a viewer in acme, whatever it is in globex');
    const refusals = await Promise.all(['globex', 'no-such-workspace'].map((w) => call(LIST, { authorization: `Bearer ${VIEWER}`, 'x-postbote-workspace': w }).then(() => 'answered', (e: Error) => e.message)));
    assert.equal(refusals[0]?.replace('globex', 'W'), refusals[1]?.replace('no-such-workspace', 'W'), 'another customer\'s workspace is refused like one that does not exist');
    await assert.rejects(call(LIST, { authorization: `Bearer ${VIEWER}`, 'x-postbote-workspace': '../Acme' }), { code: 'INVALID_ARGUMENT' });
  });

  it('lets an installation admin act in any workspace, default when none is named', async () => {
    assert.deepEqual((await call(LIST, { authorization: `Bearer ${VENDOR}` })).scope, { every: false, workspace: 'default' });
    assert.deepEqual((await call(CREATE_TOKEN, { authorization: `Bearer ${VENDOR}`, 'x-postbote-workspace': 'globex' })).scope, { every: false, workspace: 'globex' });
  });
});
