// Issue #15: no API answers a stranger. The split deployment — four service processes on
// MariaDB and Kafka — runs under mutual TLS with certificates from `postbote certs create`;
// the fetcher's path (credentials, store, log) works on its certificate alone, and every
// RPC of every service is called with no credentials, a revoked and an expired token, a garbage token,
// each role, and two service identities, and the answer is checked against the role table.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { createConnection } from 'mysql2/promise';
import { permitted, type Principal, type Role } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import { PermissionDeniedError } from '@postbote/errors';
import { call, connect } from '@postbote/grpc-runtime';
import {
  AccessServiceService,
  ConnectorServiceClient,
  Security,
  AuthServiceService,
  ConnectorServiceService,
  ConsoleUserServiceService,
  CredentialServiceService,
  FetcherServiceService,
  StorageServiceService,
  TriggerServiceService,
} from '@postbote/proto';
import {
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
  tempDir,
  testMail,
  type Proc,
  type ServiceAddresses,
  type TestDatabase,
} from '@postbote/testing';

const SERVICES = ['config', 'storage', 'trigger', 'fetcher'] as const;
const DEFINITIONS = {
  CONFIG_SERVICE_ADDR: [ConnectorServiceService, CredentialServiceService, AccessServiceService, AuthServiceService, ConsoleUserServiceService],
  STORAGE_SERVICE_ADDR: [StorageServiceService],
  TRIGGER_SERVICE_ADDR: [TriggerServiceService],
  FETCHER_SERVICE_ADDR: [FetcherServiceService],
} as const;
const REFLECTION = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';

type Outcome = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'answered' | 'no connection';

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

  it('answers every RPC as the role table says, and only health without credentials', async () => {
    const token = (role: Role) => {
      const r = cli(['--json', 'tokens', 'create', '--name', `matrix ${role}`, '--role', role]);
      assert.equal(r.code, 0, r.err);
      return (JSON.parse(r.out) as { secret: string; token: { id: string } });
    };
    const revoked = token('admin');
    assert.equal(cli(['tokens', 'revoke', revoked.token.id]).code, 0);
    // An expired token: made with a day to live, then aged in the database (no clock to wind).
    const expired = cli(['--json', 'tokens', 'create', '--name', 'matrix expired', '--role', 'admin', '--valid-days', '1']);
    assert.equal(expired.code, 0, expired.err);
    const aged = JSON.parse(expired.out) as { secret: string; token: { id: string } };
    const sql = await createConnection(db.config.kind === 'mysql' ? db.config.url : '');
    await sql.query('UPDATE api_tokens SET expires_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [aged.token.id]);
    await sql.end();
    const fake = (role: Role): Principal => ({ kind: 'token', tokenId: '', name: '', role, expiresAt: null });
    const identities: Array<{ label: string; cert: string; token?: string; principal: Principal | null }> = [
      { label: 'no credentials', cert: 'cli', principal: null },
      { label: 'a garbage token', cert: 'cli', token: `pbt_${'0'.repeat(12)}_${'A'.repeat(43)}`, principal: null },
      { label: 'a revoked token', cert: 'cli', token: revoked.secret, principal: null },
      { label: 'an expired token', cert: 'cli', token: aged.secret, principal: null },
      ...(['admin', 'operator', 'viewer', 'ingest'] as const).map((role) => ({ label: role, cert: 'cli', token: token(role).secret, principal: fake(role) })),
      { label: 'the fetcher certificate', cert: 'fetcher', principal: { kind: 'service', service: 'fetcher' } as Principal },
      { label: 'the storage certificate', cert: 'storage', principal: { kind: 'service', service: 'storage' } as Principal },
    ];
    const mismatches: string[] = [];
    let calls = 0;
    for (const id of identities) {
      for (const [variable, definitions] of Object.entries(DEFINITIONS)) {
        const client = new Client(addrs[variable as keyof ServiceAddresses], credentials.createSsl(readFileSync(join(certs, 'ca.crt')), readFileSync(join(certs, `${id.cert}.key`)), readFileSync(join(certs, `${id.cert}.crt`))));
        try {
          const methods: Array<{ path: string; requestStream: boolean; responseStream: boolean }> = [
            ...(definitions as ReadonlyArray<Record<string, { path: string; requestStream: boolean; responseStream: boolean }>>).flatMap((d) => Object.values(d)),
            // Reflection is bidirectional; one request and a half-close is all a probe needs.
            { path: REFLECTION, requestStream: false, responseStream: true },
          ];
          for (const { path, requestStream, responseStream } of methods) {
            const outcome = await invoke(client, path, requestStream, responseStream, id.token);
            calls++;
            const expected: Outcome = id.principal === null ? 'UNAUTHENTICATED' : permitted(id.principal, path) ? 'answered' : 'PERMISSION_DENIED';
            if (outcome !== expected) mismatches.push(`${id.label} → ${path}: ${outcome}, expected ${expected}`);
          }
        } finally {
          client.close();
        }
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(calls >= 9 * 27, `${calls} calls`);
    for (const variable of Object.keys(DEFINITIONS)) {
      assert.equal(await healthStatus(addrs[variable as keyof ServiceAddresses]).catch(() => 'no plaintext'), 'no plaintext', 'TLS only, even for health');
    }
  });

  it('does not even connect with a certificate from another CA, or without one', async () => {
    for (const [key, cert] of [[join(dir, 'other-ca', 'cli.key'), join(dir, 'other-ca', 'cli.crt')], [null, null]] as const) {
      const client = new Client(addrs.CONFIG_SERVICE_ADDR, credentials.createSsl(readFileSync(join(certs, 'ca.crt')), key ? readFileSync(key) : null, cert ? readFileSync(cert) : null));
      try {
        assert.equal(await invoke(client, '/postbote.v1.AccessService/WhoAmI', false, false, undefined), 'no connection');
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
      assert.match(update.err, /PERMISSION_DENIED: spec\.password: changing spec\.port, spec\.security decides where the stored password is sent; give the password again/);
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

/** One call with an empty request; what came back, reduced to what the gate decides. */
function invoke(client: Client, path: string, requestStream: boolean, responseStream: boolean, token: string | undefined): Promise<Outcome> {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const same = (b: Buffer) => b;
  const deadline = Date.now() + 5_000;
  return new Promise((resolve) => {
    const done = (err: ServiceError | null) => {
      if (!err) return resolve('answered');
      if (err.code === status.UNAUTHENTICATED) return resolve('UNAUTHENTICATED');
      // PASSWORD_REQUIRED is a handler's answer, not the gate's; an empty request never asks for it.
      if (err.code === status.PERMISSION_DENIED) return resolve('PERMISSION_DENIED');
      if (err.code === status.UNAVAILABLE && /handshake|certificate|ECONNRESET|socket|Connection dropped|No connection established/i.test(err.details)) return resolve('no connection');
      resolve('answered');
    };
    if (requestStream) {
      const call = client.makeBidiStreamRequest(path, same, same, md, { deadline });
      call.on('data', () => undefined);
      call.on('error', (e: ServiceError) => done(e));
      call.on('status', (s) => s.code === status.OK && done(null));
      call.end();
    } else if (responseStream) {
      const call = client.makeServerStreamRequest(path, same, same, Buffer.alloc(0), md, { deadline: Date.now() + 1_500 });
      call.on('data', () => undefined);
      call.on('error', (e: ServiceError) => done(e.code === status.DEADLINE_EXCEEDED ? null : e));
      call.on('status', (s) => s.code === status.OK && done(null));
    } else {
      client.makeUnaryRequest(path, same, same, Buffer.alloc(0), md, { deadline }, (err) => done(err));
    }
  });
}

