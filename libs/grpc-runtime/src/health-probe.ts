import { Metadata, type Client } from '@grpc/grpc-js';

/** grpc.health.v1 serving states, by their wire numbers. */
const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type HealthState = (typeof STATUS)[number];

/**
 * Asks a peer's standard health service (grpc.health.v1.Health/Check, open to every caller)
 * about one of its services, over an existing client's channel — the same address, TLS and
 * certificates the client uses for its real calls. The two messages are one field each and
 * are encoded here, so no proto loading is needed.
 */
export function healthOf(client: Client, service: string, deadlineMs = 3_000): Promise<HealthState> {
  const name = Buffer.from(service, 'utf8');
  const serialize = () => Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  // HealthCheckResponse { ServingStatus status = 1; }: absent means UNKNOWN (0).
  const deserialize = (b: Buffer): HealthState => (b.length >= 2 && b[0] === 0x08 ? (STATUS[b[1] ?? 0] ?? 'UNKNOWN') : 'UNKNOWN');
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', serialize, deserialize, {}, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(new Error(`health check of ${service}: ${err.details || err.message}`));
      else resolve(res ?? 'UNKNOWN');
    });
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  for (let v = n; ; v >>>= 7) {
    if (v < 0x80) {
      out.push(v);
      return Buffer.from(out);
    }
    out.push((v & 0x7f) | 0x80);
  }
}
