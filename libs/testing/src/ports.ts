import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports for processes a test starts with a fixed address. They come from below Linux's
// ephemeral range (32768–60999), like the test servers' (decision 0010): a port from the
// ephemeral range that was free a moment ago can be given to any outgoing connection
// before the process binds it (seen in CI: EADDRINUSE while 40 processes started). The
// fixed test-server ports are left out.
//
// Test files run in processes side by side, and a port is checked here but bound later by a
// child process: two test processes could both find the same port free and both hand it out
// (CI of b17494b: `postbote start` died with EADDRINUSE). So a port handed out is also claimed
// machine-wide, by a file named after it holding the claiming process's pid; a claim whose
// process is gone is taken over.
const LOW = 24_000;
const HIGH = 32_000;
const RESERVED = new Set([19092, 19093, 19192, 19193, 21110, 21143, 21993, 21995, 23025, 23110, 23143]);
export const PORT_CLAIMS = join(tmpdir(), 'postbote-test-ports');

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process unless a living process (this one included) holds it already. */
export function claimPort(port: number): boolean {
  mkdirSync(PORT_CLAIMS, { recursive: true });
  const file = join(PORT_CLAIMS, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a claim being written right now, by a process that is alive.
    if (!Number.isInteger(holder) || holder <= 0 || holder === process.pid || alive(holder)) return false;
    try {
      unlinkSync(file);
    } catch {
      // another process took the stale claim over first; the next `wx` decides
    }
  }
  return false;
}

/** A loopback port below the ephemeral range that is free now and claimed by no other living test process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (RESERVED.has(port) || !claimPort(port)) continue;
    if (await canBind(port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}
