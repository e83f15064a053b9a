import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { grantsFor, isOpen, mayGrant, permitted, renderPermissionTable } from './permissions';
import { accessOf, homeWorkspace, type AnyRole, type Principal, type TokenPrincipal } from './principal';

const W = 'acme';
const token = (role: AnyRole, workspace = W): TokenPrincipal => ({ kind: 'token', tokenId: '000000000000', name: role, access: accessOf(role, workspace), expiresAt: null });
const fetcher: Principal = { kind: 'service', service: 'fetcher' };
const internal: Principal = { kind: 'service', service: 'internal' };
const storage: Principal = { kind: 'service', service: 'storage' };
const m = (path: string) => `/postbote.v1.${path}`;
const may = (p: Principal, path: string, workspace = W) => permitted(p, m(path), workspace);

describe('the permission table', () => {
  it('lets only the fetcher read credentials, store emails and write connector logs', () => {
    for (const path of ['CredentialService/GetCredentials', 'StorageService/StoreEmails', 'StorageService/AppendConnectorLog', 'StorageService/FindStoredSources']) {
      assert.ok(may(fetcher, path) && may(internal, path), path);
      for (const role of ['installation-admin', 'admin', 'operator', 'viewer', 'ingest'] as const) assert.ok(!may(token(role), path), `${role} ${path}`);
      assert.ok(!may(storage, path), `storage ${path}`);
    }
  });

  it('lets viewers read, operators change connectors, and only admins manage tokens, in their workspace', () => {
    assert.ok(may(token('viewer'), 'ConnectorService/ListConnectors'));
    assert.ok(may(token('viewer'), 'StorageService/DownloadRawEmail'));
    assert.ok(!may(token('viewer'), 'ConnectorService/CreateConnector'));
    assert.ok(!may(token('viewer'), 'ConnectorService/TestConnection'));
    assert.ok(may(token('operator'), 'ConnectorService/UpdateConnector'));
    assert.ok(!may(token('operator'), 'AccessService/CreateToken'));
    assert.ok(may(token('admin'), 'AccessService/CreateToken'));
  });

  it('gives a role only in its own workspace: elsewhere it is nobody', () => {
    for (const role of ['admin', 'operator', 'viewer', 'ingest'] as const) {
      for (const path of ['ConnectorService/ListConnectors', 'StorageService/GetEmail', 'TriggerService/TailEvents', 'AccessService/WhoAmI', 'WorkspaceService/ListWorkspaces']) {
        assert.ok(!may(token(role), path, 'globex'), `${role} of ${W} → ${path} in globex`);
      }
    }
  });

  it('keeps master keys and workspaces to the installation admin, who acts as an admin in any workspace', () => {
    const vendor = token('installation-admin', '');
    for (const path of ['ConnectorService/RotateKeys', 'StorageService/MigrateBlobs', 'WorkspaceService/CreateWorkspace', 'WorkspaceService/SuspendWorkspace', 'WorkspaceService/DeleteWorkspace']) {
      assert.ok(may(vendor, path), path);
      assert.ok(!may(token('admin'), path), `a workspace admin → ${path}`);
    }
    for (const workspace of [W, 'globex', 'default']) {
      assert.ok(may(vendor, 'AccessService/CreateToken', workspace));
      assert.ok(may(vendor, 'ConnectorService/DeleteConnector', workspace));
    }
  });

  it('lets the workflow engine (ingest) fetch what an event names and nothing else', () => {
    assert.ok(may(token('ingest'), 'StorageService/GetEmail'));
    assert.ok(may(token('ingest'), 'StorageService/DownloadRawEmail'));
    assert.ok(may(token('ingest'), 'TriggerService/TailEvents'));
    assert.ok(!may(token('ingest'), 'StorageService/ListEmails'));
    assert.ok(!may(token('ingest'), 'ConnectorService/GetConnector'));
  });

  it('refuses unknown methods to everyone and leaves only health open', () => {
    assert.deepEqual(grantsFor('/postbote.v1.ConnectorService/DropEverything'), []);
    assert.ok(!permitted(token('installation-admin'), '/postbote.v1.ConnectorService/DropEverything', W));
    assert.ok(isOpen('/grpc.health.v1.Health/Check'));
    assert.ok(!isOpen('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo'));
    assert.ok(!permitted(token('admin'), 'garbage', W));
  });

  it('lets only the console sign people in and out; admins manage their workspace\'s people', () => {
    const console: Principal = { kind: 'service', service: 'console' };
    for (const path of ['ConsoleUserService/SignIn', 'ConsoleUserService/SignOut']) {
      assert.ok(may(console, path) && may(internal, path), path);
      assert.ok(!may(fetcher, path) && !may(storage, path), path);
      for (const role of ['admin', 'operator', 'viewer', 'ingest'] as const) assert.ok(!may(token(role), path), `${role} ${path}`);
    }
    assert.ok(may(token('admin'), 'ConsoleUserService/AddConsoleUser'));
    assert.ok(!may(token('operator'), 'ConsoleUserService/AddConsoleUser'));
    assert.ok(!may(console, 'ConsoleUserService/AddConsoleUser'), 'the console cannot make users');
    assert.ok(!may(console, 'ConnectorService/ListConnectors'), 'the console reads nothing on its own account');
  });

  it('lets only services ask who holds a token', () => {
    assert.ok(may(storage, 'AuthService/Authenticate'));
    assert.ok(!may(token('admin'), 'AuthService/Authenticate'));
  });

  it('lets nobody hand out more than they hold', () => {
    assert.ok(mayGrant(token('installation-admin', ''), 'installation-admin'));
    assert.ok(!mayGrant(token('admin'), 'installation-admin'));
    assert.ok(mayGrant(token('admin'), 'admin'));
    assert.ok(!mayGrant(fetcher, 'installation-admin'));
  });

  it('acts, without a named workspace, in default for an installation admin and in a token\'s only workspace otherwise', () => {
    assert.equal(homeWorkspace(token('installation-admin', '')), 'default');
    assert.equal(homeWorkspace(token('viewer', 'globex')), 'globex');
    const person: TokenPrincipal = { kind: 'token', tokenId: '', name: 'console: ann', access: { installationAdmin: false, roles: new Map([['zeta', 'viewer'], ['beta', 'admin']]) }, expiresAt: null };
    assert.equal(homeWorkspace(person), 'beta', 'several: the first by id');
  });

  it('is what docs/security.md shows (regenerate with `npx tsx tools/doc-tables.ts --write`)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'security.md'), 'utf8');
    assert.equal(/<!-- permissions:start[^\n]*-->\n([\s\S]*?)\n<!-- permissions:end -->/.exec(doc)?.[1], renderPermissionTable());
  });
});
