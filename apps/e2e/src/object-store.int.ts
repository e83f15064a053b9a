// Issue #28: the all-in-one with raw mail in an object store (MAIL_BLOBS_URL, S3Proxy). While
// the store cannot be reached, a run stores nothing and touches nothing on the mail server,
// and the connector's log names BLOB_STORE_UNAVAILABLE; once it is back, the next run stores
// every email in the bucket (none in the database), marks them read, and a download returns
// the server's bytes.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, DOVECOT, S3PROXY, launch, cuttingProxy, dovecotUser, eventually, freePort, mailboxAs, runCli, serviceAddresses, startAllInOne, tempDir, testBucket, testMail, type CuttingProxy, type Proc } from '@postbote/testing';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('raw mail in an object store, through an outage of the store (all-in-one)', () => {
  const dir = tempDir('pb-objects-');
  const user = dovecotUser('objects');
  let proc: Proc | undefined;
  let proxy: CuttingProxy | undefined;
  let env: NodeJS.ProcessEnv;
  let bucket: Awaited<ReturnType<typeof testBucket>>;
  let proxyPort: number;

  /** Flags of the INBOX messages by subject, as the server holds them. */
  const inbox = async (): Promise<Map<string, { seen: boolean; raw: Buffer }>> => {
    const c = await mailboxAs(user);
    try {
      await c.mailboxOpen('INBOX', { readOnly: true });
      const out = new Map<string, { seen: boolean; raw: Buffer }>();
      for await (const m of c.fetch('1:*', { envelope: true, flags: true, source: true })) out.set(m.envelope?.subject ?? '', { seen: m.flags?.has('\\Seen') ?? false, raw: m.source ?? Buffer.alloc(0) });
      return out;
    } finally {
      await c.logout();
    }
  };

  before(async () => {
    bucket = await testBucket();
    proxyPort = await freePort();
    // The store "down": MAIL_BLOBS_URL names a port where nothing listens yet.
    const url = bucket.url.replace(encodeURIComponent(S3PROXY.endpoint), encodeURIComponent(`http://127.0.0.1:${proxyPort}`));
    env = { ...(await serviceAddresses()), ...bucket.env, MAIL_BLOBS_URL: url, POSTBOTE_DATA_DIR: dir, LOG_LEVEL: 'info' };
    const c = await mailboxAs(user);
    for (const id of ['obj-1', 'obj-2']) await c.append('INBOX', testMail(id, `body of ${id}`));
    await c.logout();
  });

  after(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proxy?.close();
  });

  it('stores nothing and marks nothing read while the store is down, then everything once it is back', async () => {
    proc = await startAllInOne(env, 60_000);
    const created = runCli(
      env,
      ['connector', 'create', '--name', 'objects', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', DOVECOT.caFile, '--username', user.username, '--workflow', 'wf-objects', '--interval', '10', '--no-push', '--password-stdin'],
      user.password,
    );
    assert.equal(created.code, 0, created.err);
    let log = '';
    const logNames = async (code: string) => {
      await new Promise((r) => setTimeout(r, 500)); // a CLI process per look: not every 10 ms
      log = runCli(env, ['log', 'objects']).out;
      return log.includes(code);
    };
    await eventually(() => logNames('BLOB_STORE_UNAVAILABLE'), 60_000, 'the run logs the store outage by name').catch((err: Error) => {
      throw new Error(`${err.message}; the log:\n${log}\nthe process:\n${proc?.out().slice(-3000)}\n${proc?.err().slice(-3000)}`);
    });
    const during = await inbox();
    assert.deepEqual([...during.values()].map((m) => m.seen), [false, false], 'nothing post-processed on the mail server');
    assert.equal(runCli(env, ['emails', 'list', 'objects']).out.includes('obj-1'), false, 'nothing stored');

    proxy = await cuttingProxy(Number(new URL(S3PROXY.endpoint).port), {}, '127.0.0.1', proxyPort); // the store is back
    await eventually(async () => [...(await inbox()).values()].every((m) => m.seen), 90_000, 'both marked read after the next run');
    const keys = await bucket.keys();
    assert.equal(keys.length, 2, 'one object per email');

    const list = runCli(env, ['--json', 'emails', 'list', 'objects']);
    assert.equal(list.code, 0, list.err);
    const { emails } = JSON.parse(list.out) as { emails: Array<{ id: string; subject: string }> };
    const one = emails.find((e) => e.subject === 'obj-1');
    assert.ok(one, list.out);
    const file = join(dir, 'obj-1.eml');
    // Not runCli: its synchronous spawn would block this process, where the store's proxy runs.
    const down = launch(CLI, ['emails', 'download', one.id, '-o', file], env);
    assert.equal(await down.exited, 0, down.err());
    assert.equal(sha(readFileSync(file)), sha((await inbox()).get('obj-1')?.raw ?? Buffer.alloc(0)), 'the server\'s bytes, from the bucket');
  });
});
