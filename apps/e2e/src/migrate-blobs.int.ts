// Issue #28: an installation that kept raw mail in its database switches to a bucket. The
// all-in-one stores a mailbox's emails as chunks, restarts with MAIL_BLOBS_URL, and
// `postbote storage migrate-blobs` moves them; every download still returns the server's bytes,
// and nothing is left in the database.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOVECOT, dovecotUser, eventually, mailboxAs, runCli, serviceAddresses, startAllInOne, tempDir, testBucket, testMail, type Proc } from '@postbote/testing';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('postbote storage migrate-blobs (all-in-one)', () => {
  const dir = tempDir('pb-migrate-');
  const user = dovecotUser('migrate');
  let proc: Proc | undefined;
  let env: NodeJS.ProcessEnv;
  const sent = new Map<string, Buffer>();

  const stop = async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    proc = undefined;
  };

  before(async () => {
    env = { ...(await serviceAddresses()), POSTBOTE_DATA_DIR: dir, LOG_LEVEL: 'info' };
    const c = await mailboxAs(user);
    for (const [id, body] of [['mig-1', 'one'], ['mig-2', 'two'], ['mig-3', `${'large line of text\r\n'.repeat(150_000)}`]] as const) {
      const raw = testMail(id, body);
      sent.set(id, raw);
      await c.append('INBOX', raw);
    }
    await c.logout();
  });

  after(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('moves the stored emails into the bucket; every download byte-exact from the bucket', async () => {
    proc = await startAllInOne(env, 60_000);
    const created = runCli(
      env,
      ['connector', 'create', '--name', 'migrate', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', DOVECOT.caFile, '--username', user.username, '--workflow', 'wf-migrate', '--interval', '3600', '--no-push', '--password-stdin'],
      user.password,
    );
    assert.equal(created.code, 0, created.err);
    const listed = () => JSON.parse(runCli(env, ['--json', 'emails', 'list', 'migrate']).out) as { emails: Array<{ id: string; subject: string }> };
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return listed().emails.length === 3;
    }, 60_000, 'the three emails stored (as database chunks)');
    const ids = new Map(listed().emails.map((e) => [e.subject, e.id]));
    await stop();

    const bucket = await testBucket();
    env = { ...env, ...bucket.env };
    proc = await startAllInOne(env, 60_000);
    const run = runCli(env, ['storage', 'migrate-blobs', '--batch', '2']);
    assert.equal(run.code, 0, run.err);
    const mib = `${([...sent.values()].reduce((n, b) => n + b.length, 0) / 1048576).toFixed(1)} MiB`;
    assert.ok(run.err.includes(`3 email(s), ${mib}, kept in the database\n`), run.err);
    assert.ok(run.err.includes(`moved 3 of 3 (${mib})\n`), run.err);
    assert.equal(run.out, `moved 3 email(s) (${mib}) into the object store\n0 email(s) (0.0 MiB) remain in the database\n`);
    assert.equal((await bucket.keys()).length, 3, 'one object per email');

    for (const [subject, raw] of sent) {
      const file = join(dir, `${subject}.eml`);
      const down = runCli(env, ['emails', 'download', ids.get(subject) ?? '', '-o', file]);
      assert.equal(down.code, 0, down.err);
      assert.equal(sha(readFileSync(file)), sha(raw), `${subject}: the server's bytes, now from the bucket`);
    }
    const again = runCli(env, ['--json', 'storage', 'migrate-blobs']);
    assert.equal(again.code, 0, again.err);
    assert.deepEqual(JSON.parse(again.out), { migratedEmails: 0, migratedBytes: 0, failures: [], remainingEmails: 0, remainingBytes: 0 });
    await stop();
  });
});
