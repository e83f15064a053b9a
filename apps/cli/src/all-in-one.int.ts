import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { call, connect } from '@postbote/grpc-runtime';
import { CreateConnectorRequest, LogLevel, Protocol, StorageServiceClient } from '@postbote/proto';
import { AS_FETCHER, CLI, REPO_ROOT, TEST_INTERNAL_TOKEN, TEST_KAFKA_BROKERS, consumeTopic, ensureBuilt, eventually, freePort, healthStatus, launch, mariaDbTestDatabase, reflectedServices, runCli, scriptedServer, storeTestEmail, tempDir, type Proc, type TestDatabase } from '@postbote/testing';

// End to end through the built artefacts: `postbote start` (all four services, one
// process) and a separately started config service on MariaDB, driven by the CLI.

const root = REPO_ROOT;
const PASSWORD = 'cli-Secret-4711-never-in-output';
const OAUTH_CLIENT_SECRET = 'cli-client-secret-0815-never-shown';
const OAUTH_REFRESH_TOKEN = 'cli-refresh-token-4242-never-shown';
const PROXY_PASSWORD = 'cli-proxy-password-1717-never-shown';
const cli = runCli;

before(() => ensureBuilt());

describe('postbote start (all-in-one, embedded default)', () => {
  const dataDir = tempDir('pb-aio-');
  let env: NodeJS.ProcessEnv;
  let proc: Proc;
  const outputs: string[] = [];

  before(async () => {
    env = {
      POSTBOTE_DATA_DIR: dataDir,
      // Fixed (instead of minted per run) so this test may store emails as the fetcher does.
      POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(),
      CONFIG_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      STORAGE_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      TRIGGER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      FETCHER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      FETCHER_SOURCE_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'debug',
    };
    proc = launch(CLI, ['start'], env);
    await eventually(() => proc.out().includes('postbote is running'), 20_000, 'all-in-one start');
  });

  after(async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('serves health to anyone, and reflection only with credentials, listing exactly the services of each port', async () => {
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const served: Record<string, string[]> = {
      CONFIG_SERVICE_ADDR: ['AccessService', 'AuthService', 'ConnectorService', 'ConsoleUserService', 'CredentialService', 'WorkspaceService'],
      STORAGE_SERVICE_ADDR: ['StorageService'],
      TRIGGER_SERVICE_ADDR: ['TriggerService'],
      FETCHER_SERVICE_ADDR: ['FetcherService'],
    };
    for (const [variable, services] of Object.entries(served)) {
      const addr = env[variable]!;
      assert.equal(await healthStatus(addr), 'SERVING');
      for (const service of services) assert.equal(await healthStatus(addr, `postbote.v1.${service}`), 'SERVING');
      await assert.rejects(reflectedServices(addr), /UNAUTHENTICATED/);
      const names = await reflectedServices(addr, admin);
      assert.deepEqual([...names].sort(), ['grpc.health.v1.Health', ...services.map((s) => `postbote.v1.${s}`)].sort(), variable);
    }
  });

  it('refuses a name that is not UTF-8 (ED A0 80) with INVALID_ARGUMENT naming spec.name, instead of storing replacement characters', async () => {
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const encoded = Buffer.from(CreateConnectorRequest.encode({ spec: { name: 'ZZZ', protocol: Protocol.POP3, host: 'localhost', username: 'u', workflowId: 'wf', password: 'pw' } as never }).finish());
    Buffer.from([0xed, 0xa0, 0x80]).copy(encoded, encoded.indexOf('ZZZ', 0, 'latin1'));
    const client = new Client(env['CONFIG_SERVICE_ADDR']!, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${admin}`);
    try {
      const err = await new Promise<ServiceError | null>((resolve) =>
        client.makeUnaryRequest('/postbote.v1.ConnectorService/CreateConnector', (b: Buffer) => b, (b: Buffer) => b, encoded, metadata, (e) => resolve(e)),
      );
      assert.equal(err?.code, status.INVALID_ARGUMENT);
      assert.match(err?.details ?? '', /spec\.name: must be valid UTF-8/);
    } finally {
      client.close();
    }
    assert.doesNotMatch(cli(env, ['connector', 'list']).out, /\uFFFD/);
  });

  it('creates a connector from the CLI with the password from stdin only', () => {
    // Loopback only, and a port nothing listens on: the fetcher's polls fail fast, locally.
    const r = cli(env, ['connector', 'create', '--name', 'Support', '--protocol', 'imap', '--host', 'localhost', '--username', 'alice', '--workflow', 'wf-1', '--password-stdin'], PASSWORD + '\n');
    outputs.push(r.out, r.err);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Server\s+localhost\n/);
    assert.match(r.out, /Port\s+993\n/);
    assert.match(r.out, /Password\s+\(set, write-only\)/);
  });

  it('shows the connector in list/get, human and --json', () => {
    const list = cli(env, ['connector', 'list']);
    const json = cli(env, ['--json', 'connector', 'get', 'support']);
    outputs.push(list.out, json.out);
    assert.match(list.out, /Support\s+IMAP\s+localhost:993\s+SSL\s+true\s+wf-1/);
    const parsed = JSON.parse(json.out) as { connector: { name: string; hasPassword: boolean; password?: string } };
    assert.equal(parsed.connector.name, 'Support');
    assert.equal(parsed.connector.hasPassword, true);
    assert.equal(parsed.connector.password, undefined);
  });

  it('refuses a password on the command line and bad flags with a clear message', () => {
    const noStdin = cli(env, ['connector', 'create', '--name', 'x', '--protocol', 'pop3', '--host', 'h', '--username', 'u', '--workflow', 'w']);
    assert.equal(noStdin.code, 2);
    assert.match(noStdin.err, /--password-stdin is required/);
    const bad = cli(env, ['connector', 'create', '--name', 'x', '--protocol', 'pop3', '--host', 'h', '--username', 'u', '--workflow', 'w', '--interval', '5', '--folder', 'INBOX', '--password-stdin'], 'pw');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /INVALID_ARGUMENT: .*--interval: must be an integer between 10 and 86400/);
    assert.match(bad.err, /--folder: applies to IMAP connectors only/);
    // Control characters a terminal or a server would act on, in a user name and a name.
    const controls = cli(env, ['connector', 'create', '--name', 'x\u0085y', '--protocol', 'pop3', '--host', 'h', '--username', 'u\u001b[2J', '--workflow', 'w\u2028x', '--password-stdin'], 'pw');
    assert.equal(controls.code, 2);
    for (const flag of ['name', 'username', 'workflow']) assert.match(controls.err, new RegExp(`--${flag}: must not contain control characters`));
    const notNumber = cli(env, ['connector', 'update', 'Support', '--batch', 'ten']);
    assert.match(notNumber.err, /--batch must be a whole number/);
  });

  it('exits 2 on every usage mistake, saying what was wrong (and 0 for --help)', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /unknown option '--bogus'/],
      [['connector', 'frobnicate'], /unknown command 'frobnicate'/],
      [['connector', 'get'], /missing required argument 'connector'/],
      [['connector', 'create', '--protocol'], /argument missing/],
      [['connector', 'update', 'Support', '--trusted-ca', '/nonexistent/ca.pem'], /--trusted-ca: cannot read "\/nonexistent\/ca\.pem": no such file/],
    ];
    for (const [args, message] of cases) {
      const r = cli(env, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /ENOENT|at .*\.js:\d+/, 'no raw error or stack');
    }
    assert.equal(cli(env, ['connector', '--help']).code, 0);
  });

  it('asks for the password again to change where it goes, warns about security NONE, and other updates keep it', () => {
    const refused = cli(env, ['connector', 'update', 'Support', '--security', 'none', '--interval', '30']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /PERMISSION_DENIED: --password-stdin: changing --port, --security decides where the stored password is sent; give the password again \(pass it with --password-stdin\)/);
    const r = cli(env, ['connector', 'update', 'Support', '--security', 'none', '--interval', '30', '--password-stdin'], PASSWORD);
    outputs.push(r.out, r.err);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: security NONE/);
    assert.match(r.out, /Port\s+143\n/);
    assert.match(r.out, /Password\s+\(set, write-only\)/);
  });

  it('creates an OAuth2 connector from the CLI: provider preset, secrets from stdin lines or a file, shown only as set', () => {
    // Created disabled: the preset names Microsoft's server, and tests reach loopback only.
    const base = ['connector', 'create', '--protocol', 'imap', '--username', 'alice@example.test', '--workflow', 'wf-1', '--disabled', '--auth', 'oauth2', '--client-id', 'app-1'];
    const r = cli(
      env,
      [...base, '--name', 'M365', '--oauth-provider', 'microsoft', '--client-secret-stdin', '--refresh-token-stdin', '--proxy', 'http://fetcher@127.0.0.1:3128', '--proxy-password-stdin'],
      `${OAUTH_CLIENT_SECRET}\n${OAUTH_REFRESH_TOKEN}\n${PROXY_PASSWORD}\n`,
    );
    outputs.push(r.out, r.err);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Server\s+outlook\.office365\.com\n/);
    assert.match(r.out, /Login method\s+OAUTH2\n/);
    assert.match(r.out, /OAuth2 client secret\s+\(set, write-only\)/);
    assert.match(r.out, /OAuth2 refresh token\s+\(set, write-only\)/);
    assert.match(r.out, /Proxy\s+http:\/\/fetcher@127\.0\.0\.1:3128\n/);
    assert.match(r.out, /Proxy password\s+\(set, write-only\)/);
    assert.doesNotMatch(r.out, /^Password/m);
    const file = join(tempDir('pb-cli-rt-'), 'refresh-token');
    writeFileSync(file, `${OAUTH_REFRESH_TOKEN}\n`, { mode: 0o600 });
    const g = cli(env, [...base, '--name', 'Gmail', '--oauth-provider', 'google', '--refresh-token-file', file]);
    outputs.push(g.out, g.err);
    assert.equal(g.code, 0, g.err);
    assert.match(g.out, /Server\s+imap\.gmail\.com\n/);
    assert.match(g.out, /OAuth2 client secret\s+\(not set\)/);
    const missing = cli(env, [...base, '--name', 'x', '--oauth-provider', 'google']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--refresh-token-stdin \(or --refresh-token-file\) is required with --auth oauth2/);
    const moved = cli(env, ['connector', 'update', 'Gmail', '--host', 'imap.elsewhere.example']);
    assert.match(moved.err, /PERMISSION_DENIED: --refresh-token-stdin: changing --host .* \(pass it with --refresh-token-stdin\)/);
    for (const name of ['M365', 'Gmail']) assert.equal(cli(env, ['connector', 'delete', name]).code, 0);
  });

  it('rotates keys from the CLI', () => {
    const r = cli(env, ['keys', 'rotate']);
    outputs.push(r.out);
    assert.match(r.out, /re-encrypted 1 secret/);
  });

  it('lists, shows and downloads stored emails byte for byte, and shows the connector log', async () => {
    const id = (JSON.parse(cli(env, ['--json', 'connector', 'get', 'Support']).out) as { connector: { id: string } }).connector.id;
    const bytes = Buffer.concat([
      Buffer.from('From: x@example.test\r\nMessage-ID: <cli@example.test>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n', 'latin1'),
      Buffer.from([0x00, 0xff, 0x0d, 0x80, 0x0a]),
    ]);
    const storage = connect(StorageServiceClient, env['STORAGE_SERVICE_ADDR']!, AS_FETCHER);
    const stored = await storeTestEmail(storage, { connectorId: id, uidl: 'cli-1', bytes });
    await call(storage.appendConnectorLog, storage, { entries: [{ id: '', connectorId: id, time: new Date(), level: LogLevel.WARN, code: 'FETCH_TIMEOUT', message: 'fetch timeout (300000 ms) exceeded' }] });
    storage.close();

    const list = cli(env, ['emails', 'list', 'Support']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`${stored.emailId}.*x@example\\.test\\s+Grüße`));
    const show = cli(env, ['--json', 'emails', 'show', stored.emailId]);
    assert.equal((JSON.parse(show.out) as { subject: string }).subject, 'Grüße');
    const dl = spawnSync(process.execPath, [CLI, 'emails', 'download', stored.emailId], { env: { PATH: process.env['PATH'], ...env } });
    assert.equal(dl.status, 0, String(dl.stderr));
    assert.ok(Buffer.from(dl.stdout).equals(bytes), 'download differs from the stored bytes');
    const log = cli(env, ['log', 'Support', '--level', 'warn']);
    assert.match(log.out, /WARN\s+FETCH_TIMEOUT fetch timeout \(300000 ms\) exceeded/);
    const quiet = cli(env, ['connector', 'create', '--name', 'Quiet', '--protocol', 'pop3', '--host', '127.0.0.1', '--username', 'q', '--workflow', 'wf-q', '--disabled', '--password-stdin'], 'pw');
    assert.equal(quiet.code, 0, quiet.err);
    assert.equal(cli(env, ['log', 'Quiet']).out, 'no log entries at info or above\n', 'an empty log says so');
    assert.equal(cli(env, ['connector', 'delete', 'Quiet']).code, 0);

    // Shown as lines a person reads; JSON only with --json.
    const human = cli(env, ['emails', 'show', stored.emailId]);
    assert.match(human.out, /^Subject\s+Grüße$/m);
    assert.match(human.out, /^Message-ID\s+<cli@example\.test>$/m);
    assert.ok(!human.out.trimStart().startsWith('{'), human.out);
    // Searching by subject, sender and Message-ID.
    assert.match(cli(env, ['emails', 'list', 'Support', '--subject', 'grüß']).out, new RegExp(stored.emailId));
    assert.match(cli(env, ['emails', 'list', 'Support', '--message-id', 'cli@example.test']).out, new RegExp(stored.emailId));
    assert.equal(cli(env, ['emails', 'list', 'Support', '--from', 'nobody@nowhere.test']).out, 'no stored emails match\n');
    // A wrong id leaves no file behind; a good one leaves exactly the bytes.
    const dir = tempDir('pb-cli-download-');
    const bad = cli(env, ['emails', 'download', 'BADID', '-o', join(dir, 'x.eml')]);
    assert.notEqual(bad.code, 0);
    assert.deepEqual(readdirSync(dir), [], 'no file, not even an empty one');
    const good = cli(env, ['emails', 'download', stored.emailId, '-o', join(dir, 'x.eml')]);
    assert.equal(good.code, 0, good.err);
    assert.deepEqual(readdirSync(dir), ['x.eml']);
    assert.ok(readFileSync(join(dir, 'x.eml')).equals(bytes));
  });

  it('tails workflow-start events on the in-process bus', async () => {
    const id = (JSON.parse(cli(env, ['--json', 'connector', 'get', 'Support']).out) as { connector: { id: string } }).connector.id;
    const tail = launch(CLI, ['--json', 'events', 'tail'], env);
    try {
      const storage = connect(StorageServiceClient, env['STORAGE_SERVICE_ADDR']!, AS_FETCHER);
      // The tail subscribes asynchronously; keep storing until one event shows up.
      let n = 0;
      await eventually(
        async () => {
          await storeTestEmail(storage, { connectorId: id, uidl: `tail-${n++}`, bytes: Buffer.from(`Message-ID: <tail-${n}@example.test>\r\nSubject: tail ${n}\r\n\r\nx\r\n`) });
          return tail.out().includes('"subject":"tail');
        },
        15_000,
        'an event on the tail',
      );
      storage.close();
      const event = JSON.parse(tail.out().split('\n').find((l) => l.includes('"subject":"tail'))!) as Record<string, string>;
      assert.equal(event['connectorName'], 'Support');
      assert.equal(event['workflowId'], 'wf-1');
    } finally {
      tail.child.kill('SIGINT');
    }
  });

  it('ends an open events tail with UNAUTHENTICATED once its token is revoked', async () => {
    const made = JSON.parse(cli(env, ['--json', 'tokens', 'create', '--name', 'tail watcher', '--role', 'viewer']).out) as { secret: string; token: { id: string } };
    const tail = launch(CLI, ['--json', 'events', 'tail'], { ...env, POSTBOTE_TOKEN: made.secret });
    try {
      // Open and served: an event reaches it.
      const id = (JSON.parse(cli(env, ['--json', 'connector', 'get', 'Support']).out) as { connector: { id: string } }).connector.id;
      const storage = connect(StorageServiceClient, env['STORAGE_SERVICE_ADDR']!, AS_FETCHER);
      let n = 0;
      await eventually(
        async () => {
          await storeTestEmail(storage, { connectorId: id, uidl: `revoked-tail-${n++}`, bytes: Buffer.from(`Message-ID: <revoked-tail-${n}@example.test>\r\nSubject: revoked tail ${n}\r\n\r\nx\r\n`) });
          return tail.out().includes('"subject":"revoked tail');
        },
        15_000,
        'an event on the tail',
      );
      storage.close();
      const revokedAt = Date.now();
      assert.equal(cli(env, ['tokens', 'revoke', made.token.id]).code, 0);
      await eventually(() => tail.child.exitCode !== null, 15_000, 'the tail ended');
      assert.equal(tail.child.exitCode, 1);
      assert.match(tail.err(), /UNAUTHENTICATED.*credentials this stream was opened with are no longer valid/);
      assert.ok(Date.now() - revokedAt < 15_000);
    } finally {
      if (tail.child.exitCode === null) tail.child.kill('SIGINT');
    }
  });

  it('prints a hostile mail server\'s answer with its terminal controls escaped (human output), exactly with --json', async () => {
    // ESC sequences that clear the screen and retitle the window, a bell, a C1 CSI (the
    // client reads POP3 answers as Latin-1; bidi controls are covered by terminal.spec.ts).
    const hostile = '-ERR \x1b[2J\x1b]0;pwned\x07 \x9b31m red';
    const server = await scriptedServer(async (socket, lines) => {
      socket.write('+OK hostile POP3\r\n');
      for await (const line of lines) {
        if (/^CAPA/i.test(line)) socket.write('-ERR no\r\n');
        else if (/^QUIT/i.test(line)) return void socket.end('+OK\r\n');
        else socket.write(Buffer.from(`${hostile}\r\n`, 'latin1'));
      }
    });
    try {
      const made = cli(env, ['--json', 'connector', 'create', '--name', 'Hostile', '--protocol', 'pop3', '--host', '127.0.0.1', '--port', String(server.port), '--security', 'none', '--username', 'u', '--workflow', 'wf-h', '--disabled', '--password-stdin'], PASSWORD);
      assert.equal(made.code, 0, made.err);
      // Launched, not run synchronously: the scripted server answers from this process.
      const run = async (args: string[]) => {
        const p = launch(CLI, args, env);
        return { code: await p.exited, out: p.out(), err: p.err() };
      };
      const human = await run(['connector', 'test', 'Hostile']);
      assert.equal(human.code, 1, human.err);
      assert.ok(![...(human.out + human.err)].some((ch) => ch === '\x07' || ch === '\x1b' || ch === '\x9b'), `no raw control reaches the terminal: ${JSON.stringify(human.out)}`);
      assert.ok(human.out.includes('\\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m red'), human.out);
      const json = await run(['--json', 'connector', 'test', 'Hostile']);
      assert.ok(JSON.stringify(JSON.parse(json.out)).includes(JSON.stringify(hostile.slice('-ERR '.length)).slice(1, -1)), 'JSON keeps the exact text');
    } finally {
      await server.close();
      cli(env, ['connector', 'delete', 'Hostile']);
    }
  });

  it('shows the fetcher actors by connector name, with plain state names, and the source address', async () => {
    const r = cli(env, ['fetchers']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /partitions=\S* source=127\.0\.0\.1\n/);
    assert.match(r.out, /CONNECTOR\s+STATE\s+MODE\s+LAST SUCCESS\s+LAST ERROR/);
    // Its server does not exist: no connection to keep, so it polls.
    assert.match(r.out, /\nSupport\s+(IDLE|POLLING|BACKOFF)\s+poll\s/);
    assert.doesNotMatch(r.out, /CONNECTOR_STATE_/);
  });

  it('shows how a connector is doing: state, mode, last error with its time, emails today and in 7 days', async () => {
    // Support's server does not exist: its runs fail; the tests above stored emails for it.
    await eventually(() => /CONNECTION_FAILED|CONNECT_TIMEOUT|TLS/.test(cli(env, ['connector', 'status', 'Support']).out), 20_000, 'a failed run reported');
    const one = cli(env, ['connector', 'status', 'Support']);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /^Name\s+Support$/m);
    assert.match(one.out, /^State\s+(BACKOFF|IDLE|POLLING)$/m);
    assert.match(one.out, /^Mode\s+poll$/m);
    assert.match(one.out, /^Last error\s+\d{4}-\d\d-\d\dT\S+\s+\S+: /m);
    const stored = (JSON.parse(cli(env, ['--json', 'emails', 'list', 'Support', '--limit', '500']).out) as { emails: unknown[] }).emails.length;
    assert.ok(stored > 0);
    assert.match(one.out, new RegExp(`^Emails today\\s+${stored}$`, 'm'));
    assert.match(one.out, new RegExp(`^Emails 7 days\\s+${stored}$`, 'm'));
    const all = cli(env, ['--json', 'connector', 'status']);
    assert.equal(all.code, 0, all.err);
    const views = (JSON.parse(all.out) as { connectors: Array<{ name: string; emailsToday: number; mode: string }> }).connectors;
    assert.deepEqual(views.map((v) => [v.name, v.emailsToday, v.mode]), [['Support', stored, 'poll']]);
    const table = cli(env, ['connector', 'status']);
    assert.match(table.out, /NAME\s+STATE\s+MODE\s+LAST SUCCESS\s+TODAY\s+7 DAYS\s+BACKLOG\s+LAST ERROR/);
  });

  it('keeps the password encrypted on disk, out of every output and log, and the key file 0600', () => {
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
    for (const f of readdirSync(dataDir).filter((n) => statSync(join(dataDir, n)).isFile())) {
      for (const secret of [PASSWORD, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN, PROXY_PASSWORD]) assert.doesNotMatch(readFileSync(join(dataDir, f)).toString('latin1'), new RegExp(secret), `${f} holds a secret in clear`);
    }
    for (const secret of [PASSWORD, OAUTH_CLIENT_SECRET, OAUTH_REFRESH_TOKEN, PROXY_PASSWORD]) assert.doesNotMatch(outputs.join('\n') + proc.out() + proc.err(), new RegExp(secret));
  });

  it('stops cleanly on SIGTERM', async () => {
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
    assert.match(proc.out(), /"msg":"stopped"/);
  });
});

describe('postbote start on MariaDB and Kafka', () => {
  let db: TestDatabase;
  let proc: Proc;
  let env: NodeJS.ProcessEnv;
  const topic = `aio-events-${Date.now()}`;
  before(async () => {
    db = await mariaDbTestDatabase();
    env = {
      POSTBOTE_DATA_DIR: tempDir('pb-aio-k-'),
      POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(),
      DATABASE_URL: db.config.kind === 'mysql' ? db.config.url : '',
      KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
      KAFKA_PARTITIONS: '3',
      TRIGGER_TOPIC: topic,
      TRIGGER_TRANSACTIONAL_ID: `tx-${topic}`,
      CONFIG_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      STORAGE_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      TRIGGER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
      FETCHER_SERVICE_ADDR: `127.0.0.1:${await freePort()}`,
    };
    proc = launch(CLI, ['start'], env);
    await eventually(() => proc.out().includes('postbote is running'), 60_000, 'all-in-one on Kafka');
  });
  after(async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await db.drop();
  });

  it('behaves as embedded: connector, stored email, one event on the topic and on the tail', async () => {
    assert.match(proc.out(), /"bus":"kafka"/);
    const created = cli(env, ['--json', 'connector', 'create', '--name', 'k', '--protocol', 'pop3', '--host', '127.0.0.1', '--username', 'u', '--workflow', 'wf-k', '--password-stdin'], PASSWORD);
    assert.equal(created.code, 0, created.err);
    const id = (JSON.parse(created.out) as { connector: { id: string } }).connector.id;
    const tail = launch(CLI, ['--json', 'events', 'tail', '--connector', id], env);
    try {
      await new Promise((r) => setTimeout(r, 4_000)); // a new consumer group joins, then reads from the end
      const storage = connect(StorageServiceClient, env['STORAGE_SERVICE_ADDR']!, AS_FETCHER);
      const stored = await storeTestEmail(storage, { connectorId: id, uidl: 'k1', bytes: Buffer.from('Message-ID: <k1@example.test>\r\nSubject: via kafka\r\n\r\nx\r\n') });
      storage.close();
      await eventually(() => tail.out().includes(stored.eventId), 30_000, 'event on the tail');
      const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1);
      assert.equal(records.length, 1);
      assert.equal(records[0]!.headers['event-id'], stored.eventId);
      assert.doesNotMatch(proc.out() + proc.err(), new RegExp(PASSWORD));
    } finally {
      tail.child.kill('SIGINT');
    }
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
  });
});

describe('services run alone, configured by environment', () => {
  let db: TestDatabase;
  before(async () => {
    db = await mariaDbTestDatabase();
  });
  after(async () => db.drop());

  it('config service on MariaDB stores only ciphertext', async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    const dataDir = tempDir('pb-alone-config-');
    const keysFile = join(tempDir('pb-keys-'), 'keys');
    const key = Buffer.alloc(32, 7).toString('base64');
    writeFileSync(keysFile, `prod-1:${key}\n`);
    const proc = launch(join(root, 'dist/apps/config-service/main.js'), [], {
      CONFIG_SERVICE_ADDR: addr,
      DATABASE_URL: db.config.kind === 'mysql' ? db.config.url : '',
      POSTBOTE_MASTER_KEYS_FILE: keysFile,
      POSTBOTE_DATA_DIR: dataDir,
    });
    try {
      await eventually(() => proc.out().includes('gRPC server listening'), 20_000, 'config service start');
      assert.equal(statSync(join(dataDir, 'admin.token')).mode & 0o777, 0o600, 'the first admin token, 0600');
      const r = cli({ CONFIG_SERVICE_ADDR: addr, POSTBOTE_DATA_DIR: dataDir }, ['connector', 'create', '--name', 'm', '--protocol', 'pop3', '--host', '127.0.0.1', '--username', 'u', '--workflow', 'w', '--password-stdin'], PASSWORD);
      assert.equal(r.code, 0, r.err);
      const conn = await createConnection(db.config.kind === 'mysql' ? db.config.url : '');
      const [rows] = (await conn.query('SELECT password_ciphertext, password_key_id, settings_json FROM connectors').finally(() => conn.end())) as unknown as [Array<Record<string, unknown>>];
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!['password_key_id'], 'prod-1');
      assert.equal((JSON.parse(String(rows[0]!['settings_json'])) as { port: number }).port, 995);
      assert.match(String(rows[0]!['password_ciphertext']), /^v1\./);
      assert.doesNotMatch(String(rows[0]!['password_ciphertext']) + proc.out() + proc.err(), new RegExp(PASSWORD));
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    }
  });

  it('fails fast naming a bad variable', async () => {
    for (const [variable, value] of [
      ['DATABASE_URL', 'postgres://x'],
      ['CONFIG_SERVICE_ADDR', 'nonsense'],
      ['POSTBOTE_MASTER_KEYS', 'k:short'],
      ['LOG_LEVEL', 'loud'],
      ['FETCHER_SOURCE_ADDRESS', 'egress.example.com'],
    ] as const) {
      const proc = launch(join(root, 'dist/apps/config-service/main.js'), [], { [variable]: value, POSTBOTE_DATA_DIR: tempDir('pb-bad-') });
      assert.equal(await proc.exited, 2, `${variable}: ${proc.err()}`);
      assert.match(proc.err(), new RegExp(`configuration error: ${variable}`));
    }
  });

  for (const service of ['storage-service', 'trigger-service', 'fetcher-service']) {
    it(`${service} starts alone, serves health, stops on SIGINT`, async () => {
      const addr = `127.0.0.1:${await freePort()}`;
      const variable = `${service.split('-')[0]!.toUpperCase()}_SERVICE_ADDR`;
      const proc = launch(join(root, `dist/apps/${service}/main.js`), [], { [variable]: addr, POSTBOTE_DATA_DIR: tempDir('pb-alone-'), POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal() });
      try {
        await eventually(() => proc.out().includes('gRPC server listening'), 20_000, `${service} start`);
        assert.equal(await healthStatus(addr), 'SERVING');
        proc.child.kill('SIGINT');
        assert.equal(await proc.exited, 0);
      } finally {
        if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      }
    });
  }
});
