import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { grantsFor, isOpen, permitted, renderPermissionTable } from './permissions';
import type { Principal, Role } from './principal';

const token = (role: Role): Principal => ({ kind: 'token', tokenId: '000000000000', name: role, role, expiresAt: null });
const fetcher: Principal = { kind: 'service', service: 'fetcher' };
const internal: Principal = { kind: 'service', service: 'internal' };
const storage: Principal = { kind: 'service', service: 'storage' };
const m = (path: string) => `/postbote.v1.${path}`;

describe('the permission table', () => {
  it('lets only the fetcher read credentials, store emails and write connector logs', () => {
    for (const path of ['CredentialService/GetCredentials', 'StorageService/StoreEmails', 'StorageService/AppendConnectorLog', 'StorageService/FindStoredSources']) {
      assert.ok(permitted(fetcher, m(path)) && permitted(internal, m(path)), path);
      for (const role of ['admin', 'operator', 'viewer', 'ingest'] as const) assert.ok(!permitted(token(role), m(path)), `${role} ${path}`);
      assert.ok(!permitted(storage, m(path)), `storage ${path}`);
    }
  });

  it('lets viewers read, operators change connectors, and only admins manage tokens and keys', () => {
    assert.ok(permitted(token('viewer'), m('ConnectorService/ListConnectors')));
    assert.ok(permitted(token('viewer'), m('StorageService/DownloadRawEmail')));
    assert.ok(!permitted(token('viewer'), m('ConnectorService/CreateConnector')));
    assert.ok(!permitted(token('viewer'), m('ConnectorService/TestConnection')));
    assert.ok(permitted(token('operator'), m('ConnectorService/UpdateConnector')));
    assert.ok(!permitted(token('operator'), m('ConnectorService/RotateKeys')));
    assert.ok(!permitted(token('operator'), m('AccessService/CreateToken')));
    assert.ok(permitted(token('admin'), m('AccessService/CreateToken')));
    assert.ok(permitted(token('admin'), m('ConnectorService/RotateKeys')));
  });

  it('lets the workflow engine (ingest) fetch what an event names and nothing else', () => {
    assert.ok(permitted(token('ingest'), m('StorageService/GetEmail')));
    assert.ok(permitted(token('ingest'), m('StorageService/DownloadRawEmail')));
    assert.ok(permitted(token('ingest'), m('TriggerService/TailEvents')));
    assert.ok(!permitted(token('ingest'), m('StorageService/ListEmails')));
    assert.ok(!permitted(token('ingest'), m('ConnectorService/GetConnector')));
  });

  it('refuses unknown methods to everyone and leaves only health open', () => {
    assert.deepEqual(grantsFor('/postbote.v1.ConnectorService/DropEverything'), []);
    assert.ok(!permitted(token('admin'), '/postbote.v1.ConnectorService/DropEverything'));
    assert.ok(isOpen('/grpc.health.v1.Health/Check'));
    assert.ok(!isOpen('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo'));
    assert.ok(!permitted(token('admin'), 'garbage'));
  });

  it('lets only the console sign people in and out; admins manage console users', () => {
    const console: Principal = { kind: 'service', service: 'console' };
    for (const path of ['ConsoleUserService/SignIn', 'ConsoleUserService/SignOut']) {
      assert.ok(permitted(console, m(path)) && permitted(internal, m(path)), path);
      assert.ok(!permitted(fetcher, m(path)) && !permitted(storage, m(path)), path);
      for (const role of ['admin', 'operator', 'viewer', 'ingest'] as const) assert.ok(!permitted(token(role), m(path)), `${role} ${path}`);
    }
    assert.ok(permitted(token('admin'), m('ConsoleUserService/AddConsoleUser')));
    assert.ok(!permitted(token('operator'), m('ConsoleUserService/AddConsoleUser')));
    assert.ok(!permitted(console, m('ConsoleUserService/AddConsoleUser')), 'the console cannot make users');
    assert.ok(!permitted(console, m('ConnectorService/ListConnectors')), 'the console reads nothing on its own account');
  });

  it('lets only services ask who holds a token', () => {
    assert.ok(permitted(storage, m('AuthService/Authenticate')));
    assert.ok(!permitted(token('admin'), m('AuthService/Authenticate')));
  });

  it('is what docs/security.md shows (regenerate with `npx tsx tools/doc-tables.ts --write`)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'security.md'), 'utf8');
    assert.equal(/<!-- permissions:start[^\n]*-->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(doc)?.[1], renderPermissionTable());
  });
});
