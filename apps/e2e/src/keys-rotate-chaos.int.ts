// Issue #25 item 8: `postbote keys rotate` killed with SIGKILL at random points of its
// work (minting the key, re-sealing rows) loses no stored credential: after each restart
// every connector's password still decrypts, and a rerun finishes the rotation.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, connect } from '@postbote/grpc-runtime';
import { ConnectorServiceClient, CredentialServiceClient, Protocol } from '@postbote/proto';
import { AS_FETCHER, TEST_INTERNAL_TOKEN, adminAuthFrom, serviceAddresses, startAllInOne, tempDir, type Proc, type ServiceAddresses } from '@postbote/testing';

const CONNECTORS = 300;

describe('keys rotate killed with SIGKILL', () => {
  const dataDir = tempDir('pb-rotate-');
  let addresses: ServiceAddresses;
  let proc: Proc | undefined;
  const env = () => ({ POSTBOTE_DATA_DIR: dataDir, ...addresses, POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(), LOG_LEVEL: 'warn' });
  const passwords = new Map<string, string>();

  before(async () => {
    addresses = await serviceAddresses();
    proc = await startAllInOne(env());
    const admin = connect(ConnectorServiceClient, addresses.CONFIG_SERVICE_ADDR, adminAuthFrom(dataDir));
    for (let i = 0; i < CONNECTORS; i++) {
      const password = `password-${i}-${Math.random().toString(36).slice(2)}`;
      // Disabled, so nothing polls: only the stored secrets matter here.
      const res = await call(admin.createConnector, admin, { spec: { name: `r${i}`, protocol: Protocol.POP3, host: 'localhost', username: `u${i}`, workflowId: 'wf', password, enabled: false } as never });
      passwords.set(res.connector!.id, password);
    }
    admin.close();
  });

  after(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  /** Every connector's password, decrypted by the config service, equals the one stored. */
  async function allReadable(): Promise<void> {
    const creds = connect(CredentialServiceClient, addresses.CONFIG_SERVICE_ADDR, AS_FETCHER);
    try {
      for (const [id, password] of passwords) assert.equal((await call(creds.getCredentials, creds, { connectorId: id, rejectedAccessToken: '' })).password, password, id);
    } finally {
      creds.close();
    }
  }

  it('keeps every credential readable across 6 kills at random points, and a rerun re-encrypts the rest', async () => {
    const keyLines = () => readFileSync(join(dataDir, 'master.key'), 'utf8').trim().split('\n').length;
    const before = keyLines();
    let killedMidway = 0;
    for (let round = 0; round < 6; round++) {
      const admin = connect(ConnectorServiceClient, addresses.CONFIG_SERVICE_ADDR, adminAuthFrom(dataDir));
      const rotation = call(admin.rotateKeys, admin, {}).then(
        () => 'finished',
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 150)));
      proc!.child.kill('SIGKILL');
      if ((await rotation) === 'cut') killedMidway++;
      await proc!.exited;
      admin.close();
      proc = await startAllInOne(env());
      await allReadable();
    }
    assert.ok(killedMidway >= 3, `${killedMidway} of 6 kills landed during a rotation`);
    assert.ok(keyLines() > before, 'new keys were minted');
    const admin = connect(ConnectorServiceClient, addresses.CONFIG_SERVICE_ADDR, adminAuthFrom(dataDir));
    const finished = await call(admin.rotateKeys, admin, {});
    admin.close();
    await allReadable();
    const again = connect(ConnectorServiceClient, addresses.CONFIG_SERVICE_ADDR, adminAuthFrom(dataDir));
    assert.equal((await call(again.rotateKeys, again, {})).reencrypted, CONNECTORS, 'a further rotation re-seals every secret under yet another key');
    again.close();
    assert.ok(finished.activeKeyId);
    await allReadable();
  });
});
