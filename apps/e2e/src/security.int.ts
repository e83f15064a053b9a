// Issues #15 and #24: no API answers a stranger or another customer. The split deployment —
// four service processes on MariaDB and Kafka — runs under mutual TLS with certificates from
// `postbote certs create`; the fetcher's path (credentials, store, log) works on its
// certificate alone. Two workspaces, each with tokens of every role, a polling connector
// and its stored email, a connector, a token and a person to name; every RPC of every
// service is called as each role of each workspace, the installation admin, a revoked,
// an expired and a garbage token, nobody and two service identities, on objects of the
// caller's workspace, of the other one and on ids that exist nowhere: the gate's answer is
// checked against the role table, and another workspace's object must answer exactly as a
// missing one.
import { strict as assert } from 'node:assert';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { createConnection } from 'mysql2/promise';
import { accessOf, permitted, type Principal, type Role as Role_ } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import { PermissionDeniedError } from '@postbote/errors';
import { call, connect, type ClientAuth } from '@postbote/grpc-runtime';
import { REQUESTS, SERVICES_BY_ADDRESS, asked, codeOf, invoke, methodsOf, type Method, type Objects, type Reply } from './rpc-matrix.fixture';
import { AccessServiceClient, ConnectorServiceClient, ConsoleUserServiceClient, FetcherServiceClient, Protocol, Role, Security, StorageServiceClient } from '@postbote/proto';
import {
  CLI,
  DOVECOT,
  REPO_ROOT,
  TEST_KAFKA_BROKERS,
  dovecotUser,
  ensureBuilt,
  eventually,
  freePort,
  healthStatus,
  launch,
  mailboxAs,
  mariaDbTestDatabase,
  runCli,
  serviceAddresses,
  storeTestEmail,
  tempDir,
  testMail,
  type Proc,
  type ServiceAddresses,
  type TestDatabase,
} from '@postbote/testing';

const SERVICES = ['config', 'storage', 'trigger', 'fetcher'] as const;
// Reflection is bidirectional; one request and a half-close is all a probe needs.
const REFLECTION: Method = { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', requestStream: false, responseStream: true, serialize: () => Buffer.alloc(0) };
/** Methods whose request names an object of a workspace: another workspace's must answer as a missing one. */
const NAMES_AN_OBJECT = new Set(
  ['ConnectorService/GetConnector', 'ConnectorService/UpdateConnector', 'ConnectorService/DeleteConnector', 'ConnectorService/SetConnectorEnabled', 'ConnectorService/TestConnection', 'ConnectorService/ListFolders', 'AccessService/RevokeToken', 'AccessService/ListAuditEntries', 'ConsoleUserService/RemoveConsoleUser', 'StorageService/GetEmail', 'StorageService/ListEmails', 'StorageService/CountEmails', 'StorageService/DownloadRawEmail', 'StorageService/ListConnectorLog', 'TriggerService/TailEvents'].map((m) => `/postbote.v1.${m}`),
);


describe('split deployment under mutual TLS: every RPC against the role table', () => {
  const dir = tempDir('pb-sec-');
  const certs = join(dir, 'certs');
  const configData = join(dir, 'config-data');
  let db: TestDatabase;
  let addrs: ServiceAddresses;
  const procs: Proc[] = [];
  let fetcherMetrics = '';
  const tlsFor = (name: string) => ({ POSTBOTE_TLS_CERT_FILE: join(certs, `${name}.crt`), POSTBOTE_TLS_KEY_FILE: join(certs, `${name}.key`), POSTBOTE_TLS_CA_FILE: join(certs, 'ca.crt') });
  const cliEnv = () => ({ ...addrs, ...tlsFor('cli'), POSTBOTE_DATA_DIR: configData });
  const cli = (args: string[], stdin?: string) => runCli(cliEnv(), args, stdin);

  before(async () => {
    ensureBuilt();
    for (const [out, names] of [[certs, 'config,storage,trigger,fetcher,cli'], [join(dir, 'other-ca'), 'cli']] as const) {
      const made = runCli({}, ['certs', 'create', '--out', out, '--for', names]);
      assert.equal(made.code, 0, made.err);
    }
    db = await mariaDbTestDatabase();
    addrs = await serviceAddresses();
    fetcherMetrics = `127.0.0.1:${await freePort()}`;
    const common = {
      ...addrs,
      DATABASE_URL: db.config.kind === 'mysql' ? db.config.url : '',
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      KAFKA_NAMESPACE: `sec-${randomBytes(4).toString('hex')}`,
      KAFKA_PARTITIONS: '3',
      FETCHER_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
    };
    for (const service of SERVICES) {
      const env = {
        ...common,
        ...tlsFor(service),
        POSTBOTE_DATA_DIR: service === 'config' ? configData : join(dir, `${service}-data`),
        ...(service === 'fetcher' ? { METRICS_ADDR: fetcherMetrics } : {}),
      };
      const proc = launch(join(REPO_ROOT, `dist/apps/${service}-service/main.js`), [], { ...env, LOG_LEVEL: 'info' });
      procs.push(proc);
      await eventually(() => proc.out().includes('gRPC server listening') || proc.child.exitCode !== null, 60_000, `${service} start`);
      assert.equal(proc.child.exitCode, null, `${service} exited: ${proc.err()}`);
      assert.match(proc.out(), /"tls":"mutual"/);
    }
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await db.drop();
  });

  it('runs the fetcher path on certificates: credentials, store and log without a token', async () => {
    const user = dovecotUser('sec');
    const created = cli(
      ['--json', 'connector', 'create', '--name', 'secure', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', join(REPO_ROOT, '.cache/test-env/dovecot/ca.crt'), '--username', user.username, '--workflow', 'wf-sec', '--interval', '10', '--password-stdin'],
      user.password,
    );
    assert.equal(created.code, 0, created.err);
    const box = await mailboxAs(user);
    await box.append('INBOX', testMail('over-mtls'));
    await box.logout();
    await eventually(() => cli(['emails', 'list', 'secure']).out.includes('over-mtls'), 60_000, 'the email stored by the fetcher over mutual TLS');
    const log = cli(['log', 'secure']);
    assert.equal(log.code, 0, log.err);
  });

  it('answers every RPC of every service as the role table says, for each role of two workspaces, and another workspace\'s objects as missing ones', async () => {
    const caPem = readFileSync(join(certs, 'ca.crt'));
    const tlsOf = (cert: string) => ({ cert: readFileSync(join(certs, `${cert}.crt`)), key: readFileSync(join(certs, `${cert}.key`)), ca: caPem, requireClientCerts: true });
    const vendorToken = readFileSync(join(configData, 'admin.token'), 'utf8').trim();
    const asVendor = (workspace: string): ClientAuth => ({ transport: { tls: tlsOf('cli'), allowPlaintext: false }, identity: { token: new Secret(vendorToken) }, workspace });
    const ws = ['acme', 'globex'] as const;
    for (const w of [...ws, 'matrix-scratch']) assert.equal(cli(['workspaces', 'create', w, '--name', w.toUpperCase()]).code, 0);
    // Each workspace: tokens of every role, a connector that polls (its email and log), a connector, a token and a person to be named.
    const objects = new Map<string, Objects>();
    const tokens = new Map<string, string>();
    const fresh = async (workspace: string, what: 'connectorId' | 'tokenId' | 'person'): Promise<string> => {
      if (what === 'connectorId') {
        const c = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor(workspace));
        try {
          return (await call(c.createConnector, c, { spec: { name: `target-${randomBytes(3).toString('hex')}`, protocol: Protocol.IMAP, host: DOVECOT.host, port: DOVECOT.imaps, security: Security.SSL, username: 'nobody', password: 'not-the-password-1', workflowId: 'wf', enabled: false } })).connector!.id;
        } finally {
          c.close();
        }
      }
      if (what === 'tokenId') {
        const a = connect(AccessServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor(workspace));
        try {
          return (await call(a.createToken, a, { name: 'target', role: Role.VIEWER, validDays: 0 })).token!.id;
        } finally {
          a.close();
        }
      }
      const u = connect(ConsoleUserServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor(workspace));
      try {
        return (await call(u.addConsoleUser, u, { name: `p-${randomBytes(3).toString('hex')}`, role: Role.VIEWER, password: 'matrix-person-password', replace: false })).name;
      } finally {
        u.close();
      }
    };
    for (const w of ws) {
      for (const role of ['admin', 'operator', 'viewer', 'ingest'] as const) {
        const r = cli(['--json', '--workspace', w, 'tokens', 'create', '--name', `${w} ${role}`, '--role', role]);
        assert.equal(r.code, 0, r.err);
        tokens.set(`${w}:${role}`, (JSON.parse(r.out) as { secret: string }).secret);
      }
      const user = dovecotUser(w);
      const env = { ...cliEnv(), POSTBOTE_TOKEN: tokens.get(`${w}:admin`) };
      const made = runCli(env, ['connector', 'create', '--name', 'poller', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', join(REPO_ROOT, '.cache/test-env/dovecot/ca.crt'), '--username', user.username, '--workflow', `wf-${w}`, '--interval', '10', '--password-stdin'], user.password);
      assert.equal(made.code, 0, made.err);
      const box = await mailboxAs(user);
      await box.append('INBOX', testMail(`mail-of-${w}`));
      await box.logout();
      let emailId = '';
      await eventually(() => {
        const listed = runCli(env, ['--json', 'emails', 'list', 'poller']);
        emailId = listed.code === 0 ? ((JSON.parse(listed.out) as { emails: Array<{ id: string }> }).emails[0]?.id ?? '') : '';
        return emailId !== '';
      }, 60_000, `the email of ${w} stored`);
      objects.set(w, { workspace: w, emailId, connectorId: await fresh(w, 'connectorId'), tokenId: await fresh(w, 'tokenId'), person: await fresh(w, 'person') });
    }
    const missing: Objects = { workspace: 'acme', connectorId: randomUUID(), emailId: randomUUID(), tokenId: randomBytes(6).toString('hex'), person: 'nobody-here' };
    const revoked = JSON.parse(cli(['--json', '--workspace', 'acme', 'tokens', 'create', '--name', 'matrix revoked', '--role', 'admin']).out) as { secret: string; token: { id: string } };
    assert.equal(cli(['--workspace', 'acme', 'tokens', 'revoke', revoked.token.id]).code, 0);
    // An expired token: made with a day to live, then aged in the database (no clock to wind).
    const aged = JSON.parse(cli(['--json', '--workspace', 'acme', 'tokens', 'create', '--name', 'matrix expired', '--role', 'admin', '--valid-days', '1']).out) as { secret: string; token: { id: string } };
    const sql = await createConnection(db.config.kind === 'mysql' ? db.config.url : '');
    await sql.query('UPDATE api_tokens SET expires_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [aged.token.id]);
    await sql.end();

    interface Identity {
      readonly label: string;
      readonly cert: string;
      readonly token?: string;
      readonly principal: Principal | null;
      /** A member's workspace; undefined for the installation admin (acts where each object is) and for nobody. */
      readonly home?: string;
    }
    const member = (w: string, role: Role_): Identity => ({ label: `${role} of ${w}`, cert: 'cli', token: tokens.get(`${w}:${role}`), home: w, principal: { kind: 'token', tokenId: '', name: '', access: accessOf(role, w), expiresAt: null } });
    const identities: Identity[] = [
      { label: 'no credentials', cert: 'cli', principal: null },
      { label: 'a garbage token', cert: 'cli', token: `pbt_${'0'.repeat(12)}_${'A'.repeat(43)}`, principal: null },
      { label: 'a revoked token', cert: 'cli', token: revoked.secret, principal: null },
      { label: 'an expired token', cert: 'cli', token: aged.secret, principal: null },
      ...ws.flatMap((w) => (['admin', 'operator', 'viewer', 'ingest'] as const).map((role) => member(w, role))),
      { label: 'the installation admin', cert: 'cli', token: vendorToken, principal: { kind: 'token', tokenId: '', name: '', access: { installationAdmin: true }, expiresAt: null } },
      { label: 'the fetcher certificate', cert: 'fetcher', principal: { kind: 'service', service: 'fetcher' } },
      { label: 'the storage certificate', cert: 'storage', principal: { kind: 'service', service: 'storage' } },
    ];
    const mismatches: string[] = [];
    let calls = 0;
    for (const id of identities) {
      for (const [variable, definitions] of Object.entries(SERVICES_BY_ADDRESS)) {
        const client = new Client(addrs[variable as keyof ServiceAddresses], credentials.createSsl(caPem, readFileSync(join(certs, `${id.cert}.key`)), readFileSync(join(certs, `${id.cert}.crt`))));
        try {
          for (const m of [...methodsOf(definitions), REFLECTION]) {
            const spec = REQUESTS[m.path] ?? { build: () => ({}) };
            // Own objects, the other workspace's, and ids that exist nowhere; the installation admin acts where each object is.
            const own = id.home ?? 'acme';
            const other = id.home ? ws.find((w) => w !== id.home) : undefined;
            const targets: Array<{ kind: 'own' | 'other' | 'missing'; objects: Objects; actIn: string | undefined }> = [
              { kind: 'own', objects: objects.get(own)!, actIn: id.home ? undefined : own },
              ...(id.home ? [] : [{ kind: 'own' as const, objects: objects.get('globex')!, actIn: 'globex' }]),
              ...(other ? [{ kind: 'other' as const, objects: objects.get(other)!, actIn: undefined }] : []),
              { kind: 'missing', objects: missing, actIn: id.home ? undefined : own },
            ];
            const replies = new Map<string, Reply>();
            for (const t of targets) {
              const headers: Record<string, string> = { ...(id.token ? { authorization: `Bearer ${id.token}` } : {}), ...(t.actIn && id.token ? { 'x-postbote-workspace': t.actIn } : {}) };
              const reply = await invoke(client, m, spec.build(t.objects), headers);
              calls++;
              replies.set(t.kind, asked(reply, t.objects));
              const code = codeOf(reply);
              const workspace = t.actIn ?? id.home ?? '';
              const expected = id.principal === null ? 'UNAUTHENTICATED' : permitted(id.principal, m.path, workspace) ? 'passes the gate' : 'PERMISSION_DENIED';
              const got = code === 'UNAUTHENTICATED' || code === 'PERMISSION_DENIED' ? code : 'passes the gate';
              if (got !== expected) mismatches.push(`${id.label} → ${m.path} (${t.kind}): ${reply.slice(0, 160)}; expected ${expected}`);
              if (expected === 'passes the gate' && t.kind === 'own' && code === 'NOT_FOUND' && NAMES_AN_OBJECT.has(m.path)) mismatches.push(`${id.label} → ${m.path}: its own object not found: ${reply.slice(0, 160)}`);
              // A destroyed object of one's own is made anew, so every later call finds one.
              if (spec.destroys && t.kind === 'own' && code === 'OK') {
                const o = objects.get(t.objects.workspace)!;
                objects.set(o.workspace, { ...o, [spec.destroys]: await fresh(o.workspace, spec.destroys as 'connectorId' | 'tokenId' | 'person') });
              }
            }
            // Another workspace's object answers exactly as an object that does not exist.
            const cross = replies.get('other');
            if (cross !== undefined && NAMES_AN_OBJECT.has(m.path) && cross !== replies.get('missing')) mismatches.push(`${id.label} → ${m.path}: another workspace's object answered ${cross.slice(0, 160)}, a missing one ${replies.get('missing')?.slice(0, 160)}`);
          }
        } finally {
          client.close();
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(calls >= 15 * 40 * 2, `${calls} calls`);
    for (const variable of Object.keys(SERVICES_BY_ADDRESS)) {
      assert.equal(await healthStatus(addrs[variable as keyof ServiceAddresses]).catch(() => 'no plaintext'), 'no plaintext', 'TLS only, even for health');
    }

    // Lists and the fleet show only the caller's workspace.
    const asMember = (w: string) => ({ transport: { tls: tlsOf('cli'), allowPlaintext: false }, identity: { token: new Secret(tokens.get(`${w}:admin`)!) } });
    const acmeIds = new Set([objects.get('acme')!.connectorId]);
    const globexConnectors = await (async () => {
      const c = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asMember('globex'));
      try {
        return (await call(c.listConnectors, c, { pageSize: 0, pageToken: '' })).connectors.map((x) => x.id);
      } finally {
        c.close();
      }
    })();
    const c = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asMember('acme'));
    const f = connect(FetcherServiceClient, addrs.FETCHER_SERVICE_ADDR, asMember('acme'));
    const a = connect(AccessServiceClient, addrs.CONFIG_SERVICE_ADDR, asMember('acme'));
    try {
      const listed = (await call(c.listConnectors, c, { pageSize: 0, pageToken: '' })).connectors;
      assert.ok(listed.every((x) => x.workspace === 'acme') && listed.some((x) => acmeIds.has(x.id)));
      assert.ok(!listed.some((x) => globexConnectors.includes(x.id)));
      await eventually(async () => (await call(f.listFetchers, f, {})).instances.some((i) => i.connectors.length > 0), 30_000, 'the fleet reports acme\'s poller');
      const fleet = (await call(f.listFetchers, f, {})).instances.flatMap((i) => i.connectors);
      assert.ok(fleet.every((s) => s.workspace === 'acme' && !globexConnectors.includes(s.connectorId)), 'the fleet shows acme\'s connectors only');
      assert.ok((await call(a.listTokens, a, { includeRevoked: true })).tokens.every((t) => t.workspace === 'acme'));
      assert.ok((await call(a.listAuditEntries, a, { pageSize: 500, pageToken: '', targetId: '' })).entries.every((e) => e.workspace === 'acme'));
    } finally {
      c.close();
      f.close();
      a.close();
    }
  });

  it('ends an open TailEvents stream within 30 s of its token being revoked (UNAUTHENTICATED)', async () => {
    const caPem = readFileSync(join(certs, 'ca.crt'));
    const fetcher: ClientAuth = { transport: { tls: { cert: readFileSync(join(certs, 'fetcher.crt')), key: readFileSync(join(certs, 'fetcher.key')), ca: caPem, requireClientCerts: true }, allowPlaintext: false }, identity: { certificate: true } };
    const connectorId = (JSON.parse(cli(['--json', 'connector', 'get', 'secure']).out) as { connector: { id: string } }).connector.id;
    const made = JSON.parse(cli(['--json', 'tokens', 'create', '--name', 'tail watcher', '--role', 'viewer']).out) as { secret: string; token: { id: string } };
    const tail = launch(CLI, ['--json', 'events', 'tail'], { ...cliEnv(), POSTBOTE_TOKEN: made.secret });
    const storage = connect(StorageServiceClient, addrs.STORAGE_SERVICE_ADDR, fetcher);
    try {
      // Open and served: stored emails' events reach it.
      let n = 0;
      await eventually(
        async () => {
          await storeTestEmail(storage, { connectorId, uidl: `tail-${randomUUID()}`, bytes: Buffer.from(`Message-ID: <tail-${n}-${randomUUID()}@example.test>\r\nSubject: watched tail ${n++}\r\n\r\nx\r\n`) });
          return tail.out().includes('"subject":"watched tail');
        },
        30_000,
        'an event on the tail',
      );
      const revokedAt = Date.now();
      assert.equal(cli(['tokens', 'revoke', made.token.id]).code, 0);
      await eventually(() => tail.child.exitCode !== null, 40_000, 'the tail ended');
      const took = Date.now() - revokedAt;
      assert.ok(took <= 30_000, `ended ${took} ms after the revocation`);
      assert.equal(tail.child.exitCode, 1);
      assert.match(tail.err(), /UNAUTHENTICATED.*credentials this stream was opened with are no longer valid/);
    } finally {
      storage.close();
      if (tail.child.exitCode === null) tail.child.kill('SIGKILL');
    }
  });

  it('does not even connect with a certificate from another CA, or without one', async () => {
    for (const [key, cert] of [[join(dir, 'other-ca', 'cli.key'), join(dir, 'other-ca', 'cli.crt')], [null, null]] as const) {
      const client = new Client(addrs.CONFIG_SERVICE_ADDR, credentials.createSsl(readFileSync(join(certs, 'ca.crt')), key ? readFileSync(key) : null, cert ? readFileSync(cert) : null));
      try {
        assert.equal(await probe(client, '/postbote.v1.AccessService/WhoAmI'), 'no connection');
      } finally {
        client.close();
      }
    }
  });

  it('cannot send a stored password to another server: the redirect attack is refused before any connection', async () => {
    let connections = 0;
    const trap: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => trap.listen(port, '127.0.0.1', resolve));
    try {
      const admin = new Secret(readFileSync(join(configData, 'admin.token'), 'utf8').trim());
      const tls = { cert: readFileSync(join(certs, 'cli.crt')), key: readFileSync(join(certs, 'cli.key')), ca: readFileSync(join(certs, 'ca.crt')), requireClientCerts: true };
      const rpc = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, { transport: { tls, allowPlaintext: false }, identity: { token: admin } });
      try {
        const attack = await call(rpc.testConnection, rpc, { target: { $case: 'ref', value: 'secure' }, overrides: { host: '127.0.0.1', port, security: Security.TLS } }).catch((e: unknown) => e);
        assert.ok(attack instanceof PermissionDeniedError && attack.reason === 'PASSWORD_REQUIRED', String(attack));
      } finally {
        rpc.close();
      }
      const update = cli(['connector', 'update', 'secure', '--host', '127.0.0.1', '--port', String(port), '--security', 'tls']);
      assert.equal(update.code, 1, update.out);
      assert.match(update.err, /PERMISSION_DENIED: --password-stdin: changing --port, --security decides where the stored password is sent; give the password again/);
      assert.doesNotMatch(update.err, /Warning/, 'nothing but the answer on stderr');
      assert.equal(connections, 0);
    } finally {
      trap.close();
    }
  });

  // Last: it stops the config service.
  it('keeps the fetcher ready only while the config and storage services it needs answer SERVING', async () => {
    const readyz = async () => (await (await fetch(`http://${fetcherMetrics}/readyz`)).json()) as { ready: boolean; checks: Record<string, string> };
    await eventually(async () => (await readyz()).ready, 20_000, 'fetcher ready');
    const before = await readyz();
    assert.equal(before.checks['fetcher: config service'], 'ok', 'asked over mutual TLS with the fetcher certificate');
    assert.equal(before.checks['fetcher: storage service'], 'ok');
    const config = procs[SERVICES.indexOf('config')];
    config?.child.kill('SIGTERM');
    await config?.exited;
    await eventually(async () => {
      const r = await readyz();
      return !r.ready && /health check of postbote\.v1\.CredentialService/.test(r.checks['fetcher: config service'] ?? '');
    }, 20_000, 'the fetcher saying which dependency is down');
    assert.equal((await readyz()).checks['fetcher: storage service'], 'ok');
  });
});

/** A call with an empty request and no token: whether the connection was made at all. */
function probe(client: Client, path: string): Promise<'no connection' | 'connected'> {
  const same = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, same, same, Buffer.alloc(0), new Metadata(), { deadline: Date.now() + 5_000 }, (err: ServiceError | null) =>
      resolve(err?.code === status.UNAVAILABLE && /handshake|certificate|ECONNRESET|socket|Connection dropped|No connection established/i.test(err.details) ? 'no connection' : 'connected'),
    );
  });
}
