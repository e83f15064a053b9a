import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { KafkaBus, TOPICS } from '@postbote/bus';
import { CapturedLog, createLogger } from '@postbote/logging';
import { TEST_KAFKA_BROKERS, consumeTopic } from '@postbote/testing';
import { LatestStatePublisher } from './state-publisher';

describe('latest-state publisher against Kafka', () => {
  const namespace = `statepub${randomBytes(4).toString('hex')}`;
  const bus = new KafkaBus({ brokers: TEST_KAFKA_BROKERS, clientId: 'state-publisher-test', defaultPartitions: 4, replicationFactor: 1, namespace });
  const logger = createLogger({ service: 'state-publisher-test', level: 'warn', destination: new CapturedLog() });
  after(() => bus.close());

  it('puts each change on the topic once when many are made side by side (as a boot or a bulk create does)', async () => {
    await bus.ensureTopics([{ topic: TOPICS.connectors, compacted: true }]);
    const publisher = new LatestStatePublisher(bus, TOPICS.connectors, 'application/octet-stream', logger);
    const keys = Array.from({ length: 600 }, (_, i) => `c-${i}`);
    // Two states of the first key in a row: the later one must be the last on the topic.
    await Promise.all([
      ...keys.map((k) => publisher.send(k, Buffer.from(`${k}:1`), `${k}-e1`)),
      publisher.send('c-0', Buffer.from('c-0:2'), 'c-0-e2'),
    ]);
    await publisher.stop();
    const records = await consumeTopic(TEST_KAFKA_BROKERS, bus.name(TOPICS.connectors), keys.length);
    const perKey = new Map<string, string[]>();
    for (const r of records) perKey.set(r.key, [...(perKey.get(r.key) ?? []), r.value.toString()]);
    assert.deepEqual([...perKey.keys()].sort(), [...keys].sort(), 'every key published');
    assert.ok(records.length <= keys.length + 1, `${records.length} records for ${keys.length + 1} changes`);
    assert.equal(perKey.get('c-0')?.at(-1), 'c-0:2', 'the newest state of a key is its last record');
  });
});
