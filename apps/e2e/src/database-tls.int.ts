// Issue #25 item 7 (database part): MariaDB over TLS with the server verified. The test
// environment runs a second mariadbd with require_secure_transport=ON and its own CA
// (.cache/test-env/mariadb-tls). A service connects with DATABASE_TLS_CA_FILE (and, for a
// user that requires one, a client certificate); without TLS, with another CA or with a
// wrong password it stops at boot (exit 2) naming the variable to fix.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConnection, type Connection } from 'mysql2/promise';
import { DOVECOT, REPO_ROOT, eventually, freePort, launch, runCli, tempDir } from '@postbote/testing';

const RUN = join(REPO_ROOT, '.cache/test-env/mariadb-tls');
const PORT = Number(process.env['POSTBOTE_TEST_MARIADB_TLS_PORT'] ?? 23306);
const CONFIG_SERVICE = join(REPO_ROOT, 'dist/apps/config-service/main.js');

describe('MariaDB over TLS (require_secure_transport=ON)', () => {
  const db = `pb_tls_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  let root: Connection;

  before(async () => {
    root = await createConnection({ host: '127.0.0.1', port: PORT, user: 'root', ssl: { ca: readFileSync(join(RUN, 'ca.crt')) } });
    await root.query(`CREATE DATABASE ${db}`);
    await root.query(`CREATE USER 'pb_${db}'@'127.0.0.1' IDENTIFIED BY '${password}' REQUIRE SSL`);
    await root.query(`CREATE USER 'pbx_${db}'@'127.0.0.1' IDENTIFIED BY '${password}' REQUIRE X509`);
    for (const u of [`pb_${db}`, `pbx_${db}`]) await root.query(`GRANT ALL ON ${db}.* TO '${u}'@'127.0.0.1'`);
  });

  after(async () => {
    await root.query(`DROP DATABASE IF EXISTS ${db}`);
    for (const u of [`pb_${db}`, `pbx_${db}`]) await root.query(`DROP USER IF EXISTS '${u}'@'127.0.0.1'`);
    await root.end();
  });

  const url = (user: string, pw = password) => `mysql://${user}:${pw}@127.0.0.1:${PORT}/${db}`;

  let boots = 0;
  async function boot(env: Record<string, string>): Promise<{ code: number | null; err: string; addr: string }> {
    const addr = `127.0.0.1:${await freePort()}`;
    const dataDir = tempDir('pb-dbtls-');
    const proc = launch(CONFIG_SERVICE, [], { CONFIG_SERVICE_ADDR: addr, POSTBOTE_DATA_DIR: dataDir, ...env });
    const done = await Promise.race([proc.exited, eventually(() => proc.out().includes('gRPC server listening'), 30_000, 'config service start').then(() => 'up' as const)]);
    if (done !== 'up') return { code: done, err: proc.err(), addr };
    try {
      const made = runCli({ CONFIG_SERVICE_ADDR: addr, POSTBOTE_DATA_DIR: dataDir }, ['connector', 'create', '--name', `over-tls-${++boots}`, '--protocol', 'pop3', '--host', '127.0.0.1', '--username', 'u', '--workflow', 'w', '--password-stdin'], 'pw');
      assert.equal(made.code, 0, made.err);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
    return { code: null, err: proc.err(), addr };
  }

  it('connects with the server verified against DATABASE_TLS_CA_FILE, and its tables are there', async () => {
    const up = await boot({ DATABASE_URL: url(`pb_${db}`), DATABASE_TLS_CA_FILE: join(RUN, 'ca.crt') });
    assert.equal(up.code, null, up.err);
    const [rows] = (await root.query(`SELECT name_key FROM ${db}.connectors`)) as unknown as [Array<{ name_key: string }>];
    assert.deepEqual(rows.map((r) => r.name_key), [`over-tls-${boots}`]);
  });

  it('presents a client certificate to a user that requires one (DATABASE_TLS_CERT_FILE, _KEY_FILE)', async () => {
    const tls = { DATABASE_URL: url(`pbx_${db}`), DATABASE_TLS_CA_FILE: join(RUN, 'ca.crt') };
    const without = await boot(tls);
    assert.equal(without.code, 2, without.err);
    assert.match(without.err, /configuration error: DATABASE_URL: the database refused the login/);
    const withCert = await boot({ ...tls, DATABASE_TLS_CERT_FILE: join(RUN, 'client.crt'), DATABASE_TLS_KEY_FILE: join(RUN, 'client.key') });
    assert.equal(withCert.code, null, withCert.err);
  });

  it('stops at boot naming the variable: another CA, no TLS, a wrong password', async () => {
    const otherCa = await boot({ DATABASE_URL: url(`pb_${db}`), DATABASE_TLS_CA_FILE: DOVECOT.caFile });
    assert.equal(otherCa.code, 2, otherCa.err);
    assert.match(otherCa.err, /configuration error: DATABASE_TLS_CA_FILE: the database server's certificate is not trusted/);
    const plain = await boot({ DATABASE_URL: url(`pb_${db}`) });
    assert.equal(plain.code, 2, plain.err);
    assert.match(plain.err, /configuration error: DATABASE_(URL|TLS): .*(TLS)/);
    const wrong = await boot({ DATABASE_URL: url(`pb_${db}`, 'not-the-password'), DATABASE_TLS_CA_FILE: join(RUN, 'ca.crt') });
    assert.equal(wrong.code, 2, wrong.err);
    assert.match(wrong.err, /configuration error: DATABASE_URL: the database refused the login \(Access denied/);
    assert.ok(!wrong.err.includes('not-the-password'), 'the password is not printed');
  });
});
