import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { FIELDS, SECRET_FIELDS, SECRET_KEYS, SETTING_KEYS, resolveCreate, type ConnectorRecord } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { AuthType, Connector, FILE_DESCRIPTOR_SET_BASE64, OauthProvider, Protocol, Security, Strategy } from '@postbote/proto';
import { connectorFromProto, connectorToProto, specFromProto, specToProto } from './connector-mapping';
import { sourceFromProto, sourceToProto } from './source-mapping';

const protoFields = (message: string): string[] => {
  const pkg = loadFileDescriptorSetFromBuffer(Buffer.from(FILE_DESCRIPTOR_SET_BASE64, 'base64'));
  const def = pkg[`postbote.v1.${message}`] as { type: { field: Array<{ name: string }> } };
  return def.type.field.map((f) => f.name).sort();
};

const record = (over: Record<string, unknown> = {}): ConnectorRecord => ({
  ...resolveCreate({ name: 'Support', protocol: 'IMAP', host: 'imap.example.test', username: 'u', password: new Secret('p'), workflowId: 'wf', folder: 'Inbox/Incidents', strategy: 'MOVE', moveTo: 'Done', ...over }).settings,
  id: '0b1c7f0e-8d1b-4a2e-9f3c-1d2e3f4a5b6c',
  workspace: 'default',
  secretsSet: ['password'],
  revision: 3,
  createdAt: new Date('2026-11-01T10:00:00Z'),
  updatedAt: new Date('2026-11-02T10:00:00Z'),
});

describe('the connector contract (API ↔ model)', () => {
  it('maps every field the proto messages have: a setting added to the proto alone fails here', () => {
    const settings = SETTING_KEYS.map((k) => FIELDS[k].api);
    const secrets = SECRET_KEYS.map((k) => SECRET_FIELDS[k].api);
    assert.deepEqual(protoFields('Connector'), [...settings, ...secrets.map((a) => `has_${a}`), 'id', 'workspace', 'revision', 'created_at', 'updated_at'].sort());
    assert.deepEqual(protoFields('ConnectorSpec'), [...settings, ...secrets].sort());
  });

  it('round-trips a stored connector through the API (IMAP and POP3)', () => {
    for (const r of [record(), record({ protocol: 'POP3', folder: undefined, strategy: undefined, moveTo: undefined })]) {
      const proto = connectorToProto(r);
      assert.equal(proto.protocol, r.protocol === 'IMAP' ? Protocol.IMAP : Protocol.POP3);
      assert.deepEqual(connectorFromProto(proto), r);
    }
    assert.equal(connectorToProto(record({ protocol: 'POP3', folder: undefined, strategy: undefined, moveTo: undefined })).strategy, Strategy.UNSPECIFIED);
  });

  it('round-trips an OAuth2 connector: its settings, and which secrets are stored as has_* flags only', () => {
    const r: ConnectorRecord = {
      ...record({ password: undefined, authType: 'OAUTH2', oauthProvider: 'MICROSOFT', oauthClientId: 'app-1', oauthRefreshToken: new Secret('rt'), oauthClientSecret: new Secret('cs') }),
      secretsSet: ['oauthClientSecret', 'oauthRefreshToken'],
    };
    const proto = connectorToProto(r);
    assert.equal(proto.authType, AuthType.OAUTH2);
    assert.equal(proto.oauthProvider, OauthProvider.MICROSOFT);
    assert.equal(proto.hasPassword, false);
    assert.equal(proto.hasOauthRefreshToken, true);
    assert.doesNotMatch(JSON.stringify(Connector.toJSON(proto)), /"rt"|"cs"/);
    assert.deepEqual(connectorFromProto(proto), r);
    // A password connector's OAuth2 settings are null in the domain, empty on the API.
    assert.equal(connectorFromProto(connectorToProto(record())).oauthTokenUrl, null);
  });

  it('turns a client\'s spec into validator input: bare enum names, unset stays unset, the password a Secret', () => {
    const input = specFromProto(specToProto({ name: 'n', security: 'TLS', batchSize: 7, password: new Secret('pw') }));
    assert.equal(input.security, 'TLS');
    assert.equal(input.batchSize, 7);
    assert.equal(input.host, undefined);
    assert.ok(input.password instanceof Secret && input.password.reveal() === 'pw');
    assert.equal(specFromProto({ security: Security.UNSPECIFIED }).security, undefined);
    assert.equal(specFromProto({ security: 'SECURITY_BOGUS' as Security }).security, 'SECURITY_BOGUS', 'unknown values reach the validator, which names the field');
  });

  it('maps source coordinates both ways', () => {
    for (const s of [{ kind: 'IMAP', folder: 'INBOX/Sub', uidValidity: 42, uid: 7 } as const, { kind: 'POP3', uidl: 'abc' } as const]) assert.deepEqual(sourceFromProto(sourceToProto(s)), s);
    assert.equal(sourceFromProto({ source: undefined }), undefined);
  });
});
