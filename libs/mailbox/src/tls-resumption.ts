import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/**
 * A connector's TLS session with its mail server, offered on its next connection so the
 * server can resume it (an abbreviated handshake: no certificate chain sent and verified, a
 * round trip less on TLS 1.2) — most of what a quiet poll's handshake costs (issue #27).
 * The fetcher keeps one per connector and revision (decision 0028): a session is never
 * offered for another server, another trust setting or another connector. A server that
 * does not know the session (restarted, another front end, expired) simply runs a full
 * handshake and hands out a new one; nothing fails.
 */
export interface TlsResumption {
  /** The session to offer; undefined: a full handshake. */
  readonly ticket: Buffer | undefined;
  /** The server handed out a session (TLS 1.3 sends them after the handshake, maybe several). */
  keep(ticket: Buffer): void;
  /** A handshake ended; `resumed`: the server accepted the offered session. */
  handshake(resumed: boolean): void;
}

/** TLS options with the session to offer (none without a resumption or a ticket). */
export function offerSession(options: ConnectionOptions, resumption: TlsResumption | undefined): ConnectionOptions {
  return resumption?.ticket ? { ...options, session: resumption.ticket } : options;
}

/**
 * Listens on a TLS socket, before its handshake ends, for the handshake's outcome and the
 * server's sessions: TLS 1.2 settles its session in the handshake, TLS 1.3 sends tickets
 * afterwards (Node emits both as 'session').
 */
export function watchSession(socket: TLSSocket, resumption: TlsResumption | undefined): void {
  if (!resumption) return;
  socket.once('secureConnect', () => resumption.handshake(socket.isSessionReused()));
  socket.on('session', (ticket: Buffer) => resumption.keep(ticket));
}

/** tls.connect offering the connector's session and keeping the server's new ones. */
export function connectTls(options: ConnectionOptions, resumption: TlsResumption | undefined): TLSSocket {
  const socket = connect(offerSession(options, resumption));
  watchSession(socket, resumption);
  return socket;
}
