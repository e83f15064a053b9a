import type { Server as NetServer, Socket } from 'node:net';
import { VARIABLES } from '@postbote/env';
import type { Logger } from '@postbote/logging';

/** What one listening port accepts (EDGE_* in the env catalogue). */
export interface ConnectionLimits {
  /** Open connections from one address; more are closed at once. */
  readonly perPeer: number;
  /** Open connections in all. */
  readonly total: number;
  /** A connection that has not sent its opening (a TLS ClientHello, the HTTP/2 preface, a request line) this long after it opened is closed. */
  readonly handshakeMs: number;
}

/** The catalogue's defaults, for a port whose transport names no limits (tests' PLAINTEXT_LOOPBACK). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  perPeer: VARIABLES.EDGE_MAX_CONNECTIONS_PER_PEER.default,
  total: VARIABLES.EDGE_MAX_CONNECTIONS.default,
  handshakeMs: VARIABLES.EDGE_HANDSHAKE_TIMEOUT_MS.default,
};

/** Fewer bytes than any real opening: the HTTP/2 preface is 24, a TLS ClientHello more. */
const OPENING_BYTES = 24;

/**
 * Bounds what idle or slow clients can hold at a port (gRPC or the console): a flood of
 * sockets from one address takes at most `perPeer` connections, never the port; a socket
 * that never sends its opening is closed. (A connection silent after its opening is the
 * protocol's to end: gRPC's keepalive pings, the HTTP server's header and idle timeouts.)
 * Applied to the raw TCP sockets (before TLS), so a flood of unfinished TLS handshakes is
 * bounded the same way. With `handOver` (gRPC) the guard holds each socket until its
 * opening has arrived and only then hands it to the protocol, which reads the buffered
 * bytes first (Node's TLS and HTTP/2 both take data already read from a socket).
 * Refusals are counted and logged once a minute per address at most, never per socket.
 */
export function guardConnections(server: NetServer, limits: ConnectionLimits, logger: Logger, what: string, handOver?: (socket: Socket) => void): void {
  const byPeer = new Map<string, number>();
  let total = 0;
  const lastWarned = new Map<string, number>();
  const warn = (peer: string, why: string) => {
    const now = Date.now();
    if ((lastWarned.get(peer) ?? 0) > now - 60_000) return;
    if (lastWarned.size > 1_000) lastWarned.clear();
    lastWarned.set(peer, now);
    logger.warn({ peer, port: what, limit: why }, `connections refused at ${what}: ${why}`);
  };
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? '';
    const mine = byPeer.get(peer) ?? 0;
    if (mine >= limits.perPeer || total >= limits.total) {
      warn(peer, mine >= limits.perPeer ? `more than ${limits.perPeer} open connections from one address` : `more than ${limits.total} open connections`);
      socket.destroy();
      return;
    }
    // A reset before the protocol has taken the socket is nobody's error to report.
    socket.on('error', () => undefined);
    byPeer.set(peer, mine + 1);
    total++;
    socket.once('close', () => {
      total--;
      const left = (byPeer.get(peer) ?? 1) - 1;
      if (left <= 0) byPeer.delete(peer);
      else byPeer.set(peer, left);
    });
    if (handOver) return holdUntilOpening(socket, limits.handshakeMs, handOver);
    // The server owns the socket already: read its counter, not its data (a 'data'
    // listener here would take the protocol's bytes).
    const silent = setTimeout(() => {
      if (socket.bytesRead < OPENING_BYTES) socket.destroy();
    }, limits.handshakeMs);
    silent.unref();
    socket.once('close', () => clearTimeout(silent));
  });
}

/**
 * Reads a socket's first bytes into its buffer (not consuming them) and hands it over once
 * an opening's worth has arrived; a socket still short of that at the deadline is closed
 * while it is still ours to close.
 */
function holdUntilOpening(socket: Socket, deadlineMs: number, handOver: (socket: Socket) => void): void {
  const deadline = setTimeout(() => socket.destroy(), deadlineMs);
  deadline.unref();
  const onReadable = () => {
    if (socket.readableLength < OPENING_BYTES && !socket.readableEnded) return void socket.read(0);
    socket.off('readable', onReadable);
    clearTimeout(deadline);
    if (!socket.destroyed) handOver(socket);
  };
  socket.on('readable', onReadable);
  socket.once('close', () => clearTimeout(deadline));
}
