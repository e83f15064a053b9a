import { createServer } from 'node:net';

// Ports for processes a test starts with a fixed address. They come from below Linux's
// ephemeral range (32768–60999), like the test servers' (decision 0010): a port from the
// ephemeral range that was free a moment ago can be given to any outgoing connection
// before the process binds it (seen in CI: EADDRINUSE while 40 processes started). The
// fixed test-server ports are left out.
const LOW = 24_000;
const HIGH = 32_000;
const RESERVED = new Set([19092, 19093, 19192, 19193, 21110, 21143, 21993, 21995, 23025, 23110]);
const handedOut = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A loopback port below the ephemeral range that is free now and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (RESERVED.has(port) || handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}
