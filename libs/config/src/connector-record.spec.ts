import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveCreate } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import type { ConnectorRow } from './connector-entity';
import { applySettings, recordFromRow } from './connector-record';

describe('connector rows', () => {
  it('keep the settings as one document beside the columns for identity and the sealed secrets', () => {
    const { settings } = resolveCreate({ name: 'Billing', protocol: 'POP3', host: 'pop.example.test', username: 'u', password: new Secret('p'), workflowId: 'wf', batchSize: 20 });
    const row = { id: 'c1', workspaceId: 'acme', passwordCiphertext: 'v1.x', passwordKeyId: 'k1', secretsCiphertext: 'v1.y', secretsKeyId: 'k1', secretKeys: 'oauthRefreshToken', revision: 4, createdAt: new Date(0), updatedAt: new Date(1) } as ConnectorRow;
    applySettings(row, settings);
    assert.equal(row.nameKey, 'billing');
    assert.doesNotMatch(row.settingsJson, /v1\.[xy]|"p"/, 'no secret in the document');
    const back = recordFromRow(row);
    assert.deepEqual({ ...back }, { ...settings, id: 'c1', workspace: 'acme', secretsSet: ['password', 'oauthRefreshToken'], revision: 4, createdAt: new Date(0), updatedAt: new Date(1) });
  });
});
