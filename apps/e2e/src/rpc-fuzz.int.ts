// Issue #10.2: no request, however malformed, takes a process down. A seeded fuzzer
// sends thousands of requests to every RPC of a running all-in-one (`postbote start`):
// random field values built from the services' own descriptors — control and non-ASCII
// characters everywhere, huge strings, numbers above 2^53 — and some raw garbage bytes.
// Every call must come back with a status (or a response), and the process must stay up.
// Calls carry the credentials their method needs (so they reach the handlers), except a
// few with none or with garbage, which the gate must refuse just as calmly.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, type MessageTypeDefinition, type MethodDefinition } from '@grpc/proto-loader';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { ConnectorServiceClient, FILE_DESCRIPTOR_SET_BASE64, Protocol } from '@postbote/proto';
import { grantsFor } from '@postbote/auth';
import { call, connect } from '@postbote/grpc-runtime';
import { TEST_INTERNAL_TOKEN, adminAuthFrom, healthStatus, runCli, serviceAddresses, startAllInOne, tempDir, type Proc } from '@postbote/testing';

const SEED = Number(process.env['POSTBOTE_FUZZ_SEED'] ?? 20261128);
const REQUESTS = Number(process.env['POSTBOTE_FUZZ_REQUESTS'] ?? 2400);

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName?: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: Array<{ name: string; value: Array<{ number: number }> }>;
}

/** xorshift32: the same seed gives the same requests. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T };
}
type Rng = ReturnType<typeof rng>;

const NASTY = ['\u0000', '\u0001', '\r\n', '\u007f', '\u202e', '\u200b', 'ä', '€', '😀', '\ud800', '%', '*', '/', '..', "'", '"', '\\', '<script>', 'INBOX', '\u00ad'];

function randomString(r: Rng, field: string): string {
  // Mail hosts stay on loopback (or fail validation): a fuzzer must not reach out.
  if (field === 'host') return r.pick(['127.0.0.1', '::1', 'localhost', '', ' ', '127.0.0.1:25', 'x'.repeat(300), 'h\r\nost', 'exa mple']);
  const roll = r.next();
  if (roll < 0.05) return 'x'.repeat(70_000 + r.int(60_000)); // above 64 KiB: echoed input once left calls hanging
  if (roll < 0.15) return '';
  let s = '';
  const n = r.int(roll < 0.5 ? 12 : 300);
  for (let i = 0; i < n; i++) s += r.next() < 0.3 ? r.pick(NASTY) : String.fromCharCode(0x20 + r.int(0x5f));
  return s;
}

function randomNumber(r: Rng, type: string): number | bigint {
  const big = ['TYPE_UINT64', 'TYPE_INT64', 'TYPE_FIXED64', 'TYPE_SFIXED64', 'TYPE_SINT64'].includes(type);
  const choices: Array<number | bigint> = [0, 1, 7, 143, 993, 65_535, 65_536, 2 ** 31 - 1, 2 ** 32 - 1];
  if (big) choices.push(2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n);
  if (type === 'TYPE_INT32' || type === 'TYPE_INT64' || type === 'TYPE_ENUM') choices.push(-1, -(2 ** 31));
  const v = r.next() < 0.7 ? r.pick(choices) : r.int(2 ** 31);
  return big ? BigInt(v) : Number(v);
}

class Fuzzer {
  readonly #types = new Map<string, MessageDescriptor>();

  constructor(
    descriptors: Record<string, MessageDescriptor>,
    private readonly r: Rng,
  ) {
    const add = (prefix: string, d: MessageDescriptor) => {
      this.#types.set(`.${prefix}${d.name}`, d);
      for (const n of d.nestedType ?? []) add(`${prefix}${d.name}.`, n);
    };
    for (const [full, d] of Object.entries(descriptors)) add(full.slice(0, full.length - d.name.length), d);
  }

  message(d: MessageDescriptor, depth = 0): Uint8Array {
    const w = new BinaryWriter();
    this.#write(w, d, depth);
    return w.finish();
  }

  #write(w: BinaryWriter, d: MessageDescriptor, depth: number): void {
    for (const f of d.field) {
      if (this.r.next() < 0.3) continue;
      const times = f.label === 'LABEL_REPEATED' ? this.r.int(4) : 1;
      for (let i = 0; i < times; i++) this.#value(w, f, depth);
    }
  }

  #value(w: BinaryWriter, f: FieldDescriptor, depth: number): void {
    const r = this.r;
    switch (f.type) {
      case 'TYPE_STRING':
        w.uint32((f.number << 3) | 2).string(randomString(r, f.name));
        return;
      case 'TYPE_BYTES': {
        const b = new Uint8Array(r.int(r.next() < 0.05 ? 3_000_000 : 2_000)).map(() => r.int(256));
        w.uint32((f.number << 3) | 2).bytes(b);
        return;
      }
      case 'TYPE_BOOL':
        w.uint32(f.number << 3).bool(r.next() < 0.5);
        return;
      case 'TYPE_MESSAGE': {
        const inner = f.typeName ? this.#types.get(f.typeName) : undefined;
        if (!inner || depth > 3) return;
        w.uint32((f.number << 3) | 2).bytes(this.message(inner, depth + 1));
        return;
      }
      default: {
        const v = randomNumber(r, f.type);
        w.uint32(f.number << 3);
        if (typeof v === 'bigint') w.uint64(v);
        else if (v < 0) w.int32(v);
        else w.uint32(v);
      }
    }
  }
}

describe('every RPC answers fuzzed requests and the process stays up', () => {
  let env: NodeJS.ProcessEnv;
  let proc: Proc;

  before(async () => {
    env = { POSTBOTE_DATA_DIR: tempDir('pb-fuzz-'), POSTBOTE_INTERNAL_TOKEN: TEST_INTERNAL_TOKEN.reveal(), ...(await serviceAddresses()), LOG_LEVEL: 'info' };
    proc = await startAllInOne(env);
  });
  after(() => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('a control character in a folder is INVALID_ARGUMENT naming the field, not a crash (the request from the issue)', () => {
    const res = runCli(env, ['connector', 'create', '--name', 'c', '--protocol', 'imap', '--host', '127.0.0.1', '--username', 'u', '--workflow', 'w', '--folder', 'IN\u0001BOX', '--password-stdin'], 'x');
    assert.equal(res.code, 2, res.err);
    assert.match(res.err, /INVALID_ARGUMENT: --folder: must not contain control characters/);
    const again = runCli(env, ['connector', 'list']);
    assert.equal(again.code, 0, `the process must still answer: ${again.err}`);
  });

  it(`${REQUESTS} seeded random requests (seed ${SEED}) each get a status`, async (t) => {
    const pkg = loadFileDescriptorSetFromBuffer(Buffer.from(FILE_DESCRIPTOR_SET_BASE64, 'base64'));
    const types: Record<string, MessageDescriptor> = {};
    const methods: Array<{ service: string; m: MethodDefinition<unknown, unknown> }> = [];
    for (const [name, def] of Object.entries(pkg)) {
      if ('format' in def) {
        if ((def as MessageTypeDefinition<unknown, unknown>).format.includes('DescriptorProto')) types[name] = (def as MessageTypeDefinition<unknown, unknown>).type as MessageDescriptor;
      } else {
        for (const m of Object.values(def)) methods.push({ service: name, m: m as MethodDefinition<unknown, unknown> });
      }
    }
    const addressOf: Record<string, string> = {
      'postbote.v1.ConnectorService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.CredentialService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.AccessService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.AuthService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.ConsoleUserService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.WorkspaceService': env['CONFIG_SERVICE_ADDR']!,
      'postbote.v1.StorageService': env['STORAGE_SERVICE_ADDR']!,
      'postbote.v1.TriggerService': env['TRIGGER_SERVICE_ADDR']!,
      'postbote.v1.FetcherService': env['FETCHER_SERVICE_ADDR']!,
    };
    const clients = new Map(Object.entries(addressOf).map(([s, a]) => [s, new Client(a, credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024 })]));
    const r = rng(SEED);
    const fuzz = new Fuzzer(types, r);
    const same = (b: Buffer) => b;
    const tally = new Map<string, number>();
    const slow = new Set(['TestConnection', 'ListFolders']);
    const adminToken = readFileSync(join(env['POSTBOTE_DATA_DIR']!, 'admin.token'), 'utf8').trim();
    /** The credentials a method needs; now and then none or garbage. */
    const credentialsFor = (path: string): Metadata => {
      const md = new Metadata();
      const roll = r.next();
      if (roll < 0.03) return md;
      if (roll < 0.06) return md.set('authorization', `Bearer pbt_${'0'.repeat(12)}_${'x'.repeat(43)}`), md;
      const grants = grantsFor(path);
      if (grants.includes('fetcher') || grants.includes('service')) md.set('x-postbote-internal-token', TEST_INTERNAL_TOKEN.reveal());
      else md.set('authorization', `Bearer ${adminToken}`);
      return md;
    };

    const one = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const { service, m } = r.pick(methods);
        const client = clients.get(service);
        const reqType = types[`postbote.v1.${(m.requestType.type as MessageDescriptor).name}`] ?? (m.requestType.type as MessageDescriptor);
        const garbage = r.next() < 0.08;
        const payload = () => Buffer.from(garbage ? new Uint8Array(r.int(64)).map(() => r.int(256)) : fuzz.message(reqType));
        const method = m.path.split('/').pop() ?? m.path;
        const what = `#${i} ${method}${garbage ? ' (garbage bytes)' : ''}`;
        if (!client) return reject(new Error(`no client for ${service}`));
        const deadline = Date.now() + (slow.has(method) ? 4_000 : 15_000);
        const done = (err: ServiceError | null) => {
          const code = err ? status[err.code] : 'OK';
          if (err?.code === status.DEADLINE_EXCEEDED && !slow.has(method)) return reject(new Error(`${what}: no answer before the deadline`));
          if (err && err.code === status.UNAVAILABLE) return reject(new Error(`${what}: UNAVAILABLE (${err.details}) — did the process go down?`));
          tally.set(code ?? String(err?.code), (tally.get(code ?? '') ?? 0) + 1);
          resolve();
        };
        if (m.requestStream) {
          // Each request stream on its own connection: on one shared HTTP/2 connection a
          // stream whose handler is not reading can hold the connection's 64 KB receive
          // window and starve the others under load (a known, open defect: see the session
          // note of 2026-12-03); this test is about every request getting a status.
          const own = new Client(addressOf[service] ?? '', credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024, 'grpc.use_local_subchannel_pool': 1 });
          const c = own.makeBidiStreamRequest(m.path, same, same, credentialsFor(m.path), { deadline });
          c.on('status', () => own.close());
          c.on('data', () => undefined);
          c.on('error', (e: ServiceError) => done(e));
          c.on('status', (s) => s.code === status.OK && done(null));
          for (let k = 0; k < 1 + r.int(5); k++) c.write(payload());
          c.end();
        } else if (m.responseStream) {
          const c = client.makeServerStreamRequest(m.path, same, same, payload(), credentialsFor(m.path), { deadline: method === 'TailEvents' ? Date.now() + 300 : deadline });
          c.on('data', () => undefined);
          c.on('error', (e: ServiceError) => done(e.code === status.DEADLINE_EXCEEDED && method === 'TailEvents' ? null : e));
          c.on('status', (s) => s.code === status.OK && done(null));
        } else {
          client.makeUnaryRequest(m.path, same, same, payload(), credentialsFor(m.path), { deadline }, (err) => done(err));
        }
      });

    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < REQUESTS) await one(next++);
      }),
    );
    for (const c of clients.values()) c.close();
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries(tally))}`);
    assert.equal([...tally.values()].reduce((a, b) => a + b, 0), REQUESTS);
    assert.ok((tally.get('INVALID_ARGUMENT') ?? 0) > REQUESTS / 10, `mostly refused as invalid: ${JSON.stringify(Object.fromEntries(tally))}`);

    // Still up and still right: every service healthy, and a valid request works.
    assert.equal(proc.child.exitCode, null, `the process exited: ${proc.err().slice(-2000)}`);
    for (const addr of Object.values(addressOf)) assert.equal(await healthStatus(addr, ''), 'SERVING');
    assert.ok((tally.get('UNAUTHENTICATED') ?? 0) > 0, 'calls without valid credentials were refused');
    const config = connect(ConnectorServiceClient, env['CONFIG_SERVICE_ADDR']!, adminAuthFrom(env['POSTBOTE_DATA_DIR']!));
    const created = await call(config.createConnector, config, {
      spec: { name: 'after-fuzz', protocol: Protocol.POP3, host: '127.0.0.1', username: 'u', password: 'p', workflowId: 'wf', enabled: false },
    });
    assert.equal(created.connector?.name, 'after-fuzz');
    config.close();
  });
});
