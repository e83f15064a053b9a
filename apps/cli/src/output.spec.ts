import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { connectorToProto } from '@postbote/contract';
import { resolveCreate } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { connectorLines, table } from './output';

const created = (over: Record<string, unknown>) => ({
  ...resolveCreate({ name: 'Support', host: 'imap.example.test', username: 'u', password: new Secret('p'), workflowId: 'wf', ...over }).settings,
  id: '0b1c7f0e-8d1b-4a2e-9f3c-1d2e3f4a5b6c',
  workspace: 'default',
  secretsSet: over['authType'] === 'OAUTH2' ? (['oauthRefreshToken'] as const) : (['password'] as const),
  revision: 2,
  createdAt: new Date('2026-11-01T00:00:00Z'),
  updatedAt: new Date('2026-11-02T00:00:00Z'),
});

describe('connector output', () => {
  it('shows every setting the connector has with its label and unit, the password only as "set"', () => {
    const text = connectorLines(connectorToProto(created({ protocol: 'IMAP', strategy: 'MOVE', moveTo: 'Done' })));
    assert.match(text, /^Id\s+0b1c7f0e/m);
    assert.match(text, /^Server\s+imap\.example\.test$/m);
    assert.match(text, /^Interval\s+60 s$/m);
    assert.match(text, /^Retention\s+30 days$/m);
    assert.match(text, /^After storing\s+MOVE$/m);
    assert.match(text, /^Move to\s+Done$/m);
    assert.match(text, /^Password\s+\(set, write-only\)$/m);
    assert.doesNotMatch(text, /Trusted CA/, 'a setting the connector does not have is left out');
  });

  it('shows an OAuth2 connector\'s provider settings and which of its secrets are stored, no password line', () => {
    const text = connectorLines(
      connectorToProto(created({ protocol: 'IMAP', host: undefined, password: undefined, authType: 'OAUTH2', oauthProvider: 'MICROSOFT', oauthClientId: 'app-1', oauthRefreshToken: new Secret('rt') })),
    );
    assert.match(text, /^Server\s+outlook\.office365\.com$/m);
    assert.match(text, /^Login method\s+OAUTH2$/m);
    assert.match(text, /^Token endpoint\s+https:\/\/login\.microsoftonline\.com\/common\/oauth2\/v2\.0\/token$/m);
    assert.match(text, /^OAuth2 refresh token\s+\(set, write-only\)$/m);
    assert.match(text, /^OAuth2 client secret\s+\(not set\)$/m);
    assert.doesNotMatch(text, /^Password/m);
    assert.doesNotMatch(text, /\brt\b/);
  });

  it('leaves out IMAP-only settings for POP3', () => {
    const text = connectorLines(connectorToProto(created({ protocol: 'POP3' })));
    assert.doesNotMatch(text, /Folder|After storing|Move to/);
    assert.match(text, /^Protocol\s+POP3$/m);
  });

  it('aligns tables', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y']]), 'A    BB\nxxx  y');
  });
});
