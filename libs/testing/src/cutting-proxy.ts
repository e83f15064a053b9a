import { createServer, connect, type Socket } from 'node:net';

export interface ProxyPlan {
  /** Close both sides once this many server→client bytes passed (the rest never arrives). */
  readonly cutAfter?: number;
  /** Stop forwarding server→client after this many bytes but keep the connection open. */
  readonly stallAfter?: number;
}

export interface CuttingProxy {
  readonly port: number;
  /** Server→client bytes forwarded so far, over all connections. */
  readonly forwarded: () => number;
  /** What clients sent so far, over all connections (a plaintext protocol's commands, in order). */
  readonly sent: () => string;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a real server that records what clients send and cuts or stalls the server's side of
 * the stream at a chosen byte offset — what a failing network or server does to a
 * transfer, on cue. Closing it is an outage of the server behind it; a new proxy on the
 * same `listenPort` is its return. It forwards bytes untouched, so TLS passes through end to end (the
 * offset then counts TLS record bytes).
 */
export async function cuttingProxy(targetPort: number, plan: ProxyPlan = {}, targetHost = '127.0.0.1', listenPort = 0): Promise<CuttingProxy> {
  let forwarded = 0;
  let sent = '';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d: Buffer) => {
      sent += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      const limit = plan.cutAfter ?? plan.stallAfter ?? Infinity;
      const room = Math.max(0, limit - forwarded);
      const pass = d.length <= room ? d : d.subarray(0, room);
      forwarded += pass.length;
      if (pass.length) client.write(pass);
      if (pass.length < d.length && plan.cutAfter !== undefined) {
        client.destroy();
        upstream.destroy();
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    forwarded: () => forwarded,
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
