// Issue #25 item 7 (Kafka part): the brokers over TLS with their certificate pinned to a CA
// and a SCRAM-SHA-512 login. The suite's broker has a SASL_SSL listener (scripts/test-env.sh);
// the all-in-one publishes its events through it, and a wrong CA or a wrong password stops
// it at boot (exit 2) naming the variable to fix.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { connect } from '@postbote/grpc-runtime';
import { StorageServiceClient } from '@postbote/proto';
import { AS_FETCHER, CLI, DOVECOT, TEST_INTERNAL_TOKEN, TEST_KAFKA_SASL, consumeTopic, launch, runCli, serviceAddresses, startAllInOne, storeTestEmail, tempDir } from '@postbote/testing';

describe('Kafka over TLS with SCRAM-SHA-512 (SASL_SSL listener)', () => {
  it('publishes a stored email\'s event through the SASL_SSL listener', async () => {
    const topic = `sasl-events-${Date.now()}`;
    const env = { POSTBOTE_DATA_DIR: tempDir('pb-sasl-'), POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(), ...(await serviceAddresses()), ...TEST_KAFKA_SASL.env, TRIGGER_TOPIC: topic, TRIGGER_TRANSACTIONAL_ID: `tx-${topic}`, LOG_LEVEL: 'info' };
    const proc = await startAllInOne(env, 60_000);
    try {
      assert.match(proc.out(), /"bus":"kafka"/);
      const made = runCli(env, ['--json', 'connector', 'create', '--name', 'k', '--protocol', 'pop3', '--host', '127.0.0.1', '--username', 'u', '--workflow', 'wf-k', '--disabled', '--password-stdin'], 'pw');
      assert.equal(made.code, 0, made.err);
      const id = (JSON.parse(made.out) as { connector: { id: string } }).connector.id;
      const storage = connect(StorageServiceClient, env.STORAGE_SERVICE_ADDR, AS_FETCHER);
      const stored = await storeTestEmail(storage, { connectorId: id, uidl: 's1', bytes: Buffer.from('Message-ID: <s1@example.test>\r\nSubject: via SASL_SSL\r\n\r\nx\r\n') });
      storage.close();
      const security = { ssl: { ca: [readFileSync(TEST_KAFKA_SASL.caFile)], rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512' as const, username: TEST_KAFKA_SASL.env.KAFKA_SASL_USERNAME, password: TEST_KAFKA_SASL.env.KAFKA_SASL_PASSWORD } };
      const records = await consumeTopic(TEST_KAFKA_SASL.brokers, topic, 1, 60_000, 1_500, security);
      assert.deepEqual(records.map((r) => r.headers['event-id']), [stored.eventId]);
      assert.ok(!(proc.out() + proc.err()).includes(TEST_KAFKA_SASL.env.KAFKA_SASL_PASSWORD), 'the SASL password is never logged');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('stops at boot naming the variable: a broker certificate from another CA, a wrong password', async () => {
    for (const [variable, override] of [
      ['KAFKA_TLS_CA_FILE', { KAFKA_TLS_CA_FILE: DOVECOT.caFile }],
      ['KAFKA_SASL_PASSWORD', { KAFKA_SASL_PASSWORD: 'not-the-password' }],
    ] as const) {
      const env = { POSTBOTE_DATA_DIR: tempDir('pb-sasl-bad-'), POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(), ...(await serviceAddresses()), ...TEST_KAFKA_SASL.env, ...override };
      const proc = launch(CLI, ['start'], env);
      const code = await Promise.race([proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      if (code === 'hung') proc.child.kill('SIGKILL');
      assert.equal(code, 2, `${variable}: ${proc.err()}${proc.out().slice(-1500)}`);
      assert.match(proc.err(), new RegExp(`configuration error: ${variable}: `));
      assert.ok(!(proc.out() + proc.err()).includes('not-the-password'), 'the password is not printed');
    }
  });
});
