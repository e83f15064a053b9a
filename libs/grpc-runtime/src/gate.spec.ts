import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import type { TokenAuthenticator } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import type { Logger } from '@postbote/logging';
import { createGate } from './gate';

const VALID = 'pbt_0123456789ab_valid';
const tokens: TokenAuthenticator = {
  authenticate: async (t) => (t === VALID ? { kind: 'token', tokenId: '0123456789ab', name: 'console: ann', role: 'viewer', expiresAt: null } : null),
};
const gate = createGate({ tokens, internalToken: new Secret('internal-token-0123456789'), logger: { info: () => undefined, warn: () => undefined } as unknown as Logger });
const md = (entries: Record<string, string>) => {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
};
const LIST = '/postbote.v1.ConnectorService/ListConnectors';
const SIGN_IN = '/postbote.v1.ConsoleUserService/SignIn';

describe('the gate', () => {
  it('lets a presented API token speak for the call, over a console certificate or the internal token', async () => {
    const p = await gate({ method: LIST, metadata: md({ authorization: `Bearer ${VALID}` }), peer: 'x', certificateName: 'console' });
    assert.equal(p.kind === 'token' && p.name, 'console: ann');
    const q = await gate({ method: LIST, metadata: md({ authorization: `Bearer ${VALID}`, 'x-postbote-internal-token': 'internal-token-0123456789' }), peer: 'x', certificateName: undefined });
    assert.equal(q.kind, 'token');
    // The person's rights, not the channel's: a viewer cannot sign people in even over the console's channel.
    await assert.rejects(gate({ method: SIGN_IN, metadata: md({ authorization: `Bearer ${VALID}` }), peer: 'x', certificateName: 'console' }), { code: 'PERMISSION_DENIED' });
  });

  it('never falls back to the channel identity when the presented token is invalid', async () => {
    await assert.rejects(gate({ method: LIST, metadata: md({ authorization: 'Bearer pbt_bad' }), peer: 'x', certificateName: 'console' }), { code: 'UNAUTHENTICATED' });
    await assert.rejects(gate({ method: SIGN_IN, metadata: md({ authorization: 'Basic abc', 'x-postbote-internal-token': 'internal-token-0123456789' }), peer: 'x', certificateName: undefined }), { code: 'UNAUTHENTICATED' });
  });

  it('without a token: the certificate, then the internal token', async () => {
    assert.deepEqual(await gate({ method: SIGN_IN, metadata: md({}), peer: 'x', certificateName: 'console' }), { kind: 'service', service: 'console' });
    assert.deepEqual(await gate({ method: SIGN_IN, metadata: md({ 'x-postbote-internal-token': 'internal-token-0123456789' }), peer: 'x', certificateName: undefined }), { kind: 'service', service: 'internal' });
    await assert.rejects(gate({ method: SIGN_IN, metadata: md({}), peer: 'x', certificateName: 'fetcher' }), { code: 'PERMISSION_DENIED' });
  });
});
