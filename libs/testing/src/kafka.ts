import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel, type IHeaders, type KafkaConfig } from 'kafkajs';

/** The suite's broker (scripts/test-env.sh up); POSTBOTE_TEST_KAFKA to point elsewhere. */
export const TEST_KAFKA_BROKERS = (process.env['POSTBOTE_TEST_KAFKA'] ?? '127.0.0.1:19092').split(',');

/**
 * The suite broker's SASL_SSL listener (scripts/test-env.sh: its port + 2, a CA of its own,
 * SCRAM-SHA-512 user `postbote`), and the variables that point a service at it.
 */
export const TEST_KAFKA_SASL = (() => {
  const port = Number((TEST_KAFKA_BROKERS[0] ?? '').split(':')[1]);
  const caFile = join(__dirname, '..', '..', '..', '.cache', 'test-env', `kafka-${port}`, 'tls', 'ca.crt');
  const env = { KAFKA_BROKERS: `127.0.0.1:${port + 2}`, KAFKA_TLS_CA_FILE: caFile, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'postbote', KAFKA_SASL_PASSWORD: 'postbote-test-kafka-pw' };
  return { brokers: [env.KAFKA_BROKERS], caFile, env };
})();

export interface ConsumedRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: string;
}

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = String(Array.isArray(v) ? v[0] : v);
  return out;
}

/**
 * Reads a topic from the beginning with a plain kafkajs consumer (read_committed, as a
 * workflow engine would) until `expected` records arrived and `settleMs` passed without
 * more — so an extra duplicate would be seen, not cut off — or `timeoutMs` ran out.
 */
export async function consumeTopic(brokers: readonly string[], topic: string, expected: number, timeoutMs = 60_000, settleMs = 1_500, security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {}): Promise<ConsumedRecord[]> {
  const kafka = new Kafka({ clientId: 'postbote-test-consumer', brokers: [...brokers], logLevel: logLevel.NOTHING, ...security });
  const consumer = kafka.consumer({ groupId: `test-${topic}-${Date.now()}-${Math.random()}`, readUncommitted: false });
  const records: ConsumedRecord[] = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0), headers: headersOf(message.headers), partition, offset: message.offset });
      last = Date.now();
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !(records.length >= expected && Date.now() - last >= settleMs)) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return records;
}

/** Controls a private broker (for tests that stop and restart one) through scripts/test-env.sh. */
export function privateKafka(port: number): { brokers: string[]; run(cmd: 'kafka-up' | 'kafka-start' | 'kafka-stop' | 'kafka-wipe'): void } {
  const script = join(__dirname, '..', '..', '..', 'scripts', 'test-env.sh');
  return {
    brokers: [`127.0.0.1:${port}`],
    run: (cmd) => {
      execFileSync('bash', [script, cmd], { env: { ...process.env, POSTBOTE_TEST_KAFKA_PORT: String(port) }, stdio: 'ignore', timeout: 180_000 });
    },
  };
}
