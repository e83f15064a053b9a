// Issue #25 item 8: a flood of idle sockets and slow clients at the gRPC ports and the
// console does not stop a legitimate caller: one address holds at most
// EDGE_MAX_CONNECTIONS_PER_PEER connections per port (more are closed at once), and a
// socket that sends no opening within EDGE_HANDSHAKE_TIMEOUT_MS is closed. The flood comes
// from 127.0.0.2, the caller from 127.0.0.1 (both loopback).
import { strict as assert } from 'node:assert';
import { connect as tcp, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { consoleUrlFrom, eventually, healthStatus, runCli, serviceAddresses, startAllInOne, tempDir, type Proc, type ServiceAddresses } from '@postbote/testing';

const PER_PEER = 40;
const FLOOD = 400;

/** Opens `n` sockets from 127.0.0.2 that never send a byte; resolves when all are connected or closed. */
async function flood(port: number, n: number): Promise<{ sockets: Socket[]; closed: () => number }> {
  let closed = 0;
  const sockets = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<Socket>((resolve) => {
        const s = tcp({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
        s.on('error', () => undefined);
        s.once('close', () => closed++);
        s.once('connect', () => resolve(s));
        s.once('close', () => resolve(s));
      }),
    ),
  );
  return { sockets, closed: () => closed };
}

describe('connection floods at the edges (all-in-one)', () => {
  const dataDir = tempDir('pb-flood-');
  let addresses: ServiceAddresses;
  let proc: Proc;
  let consoleBase = '';
  const env = () => ({ POSTBOTE_DATA_DIR: dataDir, ...addresses, EDGE_MAX_CONNECTIONS_PER_PEER: String(PER_PEER), EDGE_HANDSHAKE_TIMEOUT_MS: '1500', LOG_LEVEL: 'info' });

  before(async () => {
    addresses = await serviceAddresses();
    proc = await startAllInOne(env());
    consoleBase = consoleUrlFrom(proc.out());
  });

  after(() => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('keeps serving a legitimate caller while one address floods a gRPC port and the console with idle sockets', async () => {
    const grpcPort = Number(addresses.CONFIG_SERVICE_ADDR.split(':').pop());
    const consolePort = Number(new URL(consoleBase).port);
    const floods = [await flood(grpcPort, FLOOD), await flood(consolePort, FLOOD)];
    // Beyond the per-address limit, closed at once.
    await eventually(() => floods.every((f) => f.closed() >= FLOOD - PER_PEER), 5_000, 'the excess closed');
    // Served meanwhile: gRPC health and an authenticated call, the console's sign-in page.
    assert.equal(await healthStatus(addresses.CONFIG_SERVICE_ADDR), 'SERVING');
    const list = runCli(env(), ['connector', 'list']);
    assert.equal(list.code, 0, list.err);
    assert.equal((await fetch(`${consoleBase}/sign-in`)).status, 200);
    // And the idle ones that fit are closed once the handshake timeout passes without a byte.
    await eventually(() => floods.every((f) => f.closed() === FLOOD), 10_000, 'every idle socket closed').catch((e: Error) => assert.fail(`${e.message}: ${floods.map((f) => f.closed()).join(', ')} of ${FLOOD}`));
    assert.match(proc.out(), /connections refused at .*more than 40 open connections from one address/);
  });

  it('closes a slow client that trickles a TLS-less HTTP/2 preface or an HTTP request line too slowly, and still serves others', async () => {
    const grpcPort = Number(addresses.STORAGE_SERVICE_ADDR.split(':').pop());
    const consolePort = Number(new URL(consoleBase).port);
    const slow = [grpcPort, consolePort].map((port) => {
      const s = tcp({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      s.on('error', () => undefined);
      let open = true;
      s.once('close', () => (open = false));
      // One byte every 300 ms: fewer than the opening's bytes by the deadline.
      const text = port === grpcPort ? 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' : 'GET /sign-in HTTP/1.1\r\n';
      let i = 0;
      const timer = setInterval(() => (open && i < text.length ? s.write(text[i++]!) : clearInterval(timer)), 300);
      return { isOpen: () => open, stop: () => (clearInterval(timer), s.destroy()) };
    });
    try {
      assert.equal(await healthStatus(addresses.STORAGE_SERVICE_ADDR), 'SERVING');
      await eventually(() => slow.every((s) => !s.isOpen()), 6_000, 'the slow clients closed');
    } finally {
      for (const s of slow) s.stop();
    }
  });
});
