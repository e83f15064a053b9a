import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { TLSSocket } from 'node:tls';
import { MailboxError, classifySocketError, offerSession, tlsContextFor, watchSession, withDeadline, type ProxyAccess, type ServerAccess } from '@postbote/mailbox';
import { IDLE_RESTART_MS } from './imap-idle';

/**
 * imapflow options from connector settings. SSL = TLS from the first byte; TLS = STARTTLS,
 * required (`doSTARTTLS: true` makes imapflow fail rather than continue in clear when the
 * server does not offer it); NONE = never upgrade. The trusted CA adds to the system CAs
 * only for this connector (`tlsContextFor`).
 */
export function imapOptions(access: ServerAccess, socketTimeoutMs: number): ImapFlowOptions {
  return {
    host: access.host,
    port: access.port,
    secure: access.security === 'SSL',
    doSTARTTLS: access.security === 'TLS' ? true : access.security === 'NONE' ? false : undefined,
    // Marked where they leave: the only place the plaintext password or token meets the
    // protocol. With a token imapflow sends AUTHENTICATE OAUTHBEARER, or XOAUTH2 where
    // only that is offered.
    auth: access.login.kind === 'OAUTH2' ? { user: access.username, accessToken: access.login.accessToken.reveal() } : { user: access.username, pass: access.login.password.reveal() },
    // With the connector's TLS session to offer (its previous connection's), for SSL and STARTTLS alike.
    tls: offerSession(
      {
        rejectUnauthorized: true,
        secureContext: tlsContextFor(access.trustedCaPem),
        // imapflow hands these options to net.connect or tls.connect alike, so the source
        // address holds for every security mode (a STARTTLS upgrade keeps the socket).
        ...(access.sourceAddress ? { localAddress: access.sourceAddress } : {}),
      },
      access.tlsResumption,
    ),
    // imapflow's own SOCKS5 / HTTP CONNECT support; the password joins the URL only here.
    ...(access.proxy ? { proxy: proxyUrlWithPassword(access.proxy) } : {}),
    logger: false,
    connectionTimeout: access.connectTimeoutMs,
    greetingTimeout: access.connectTimeoutMs,
    socketTimeout: socketTimeoutMs,
    disableAutoIdle: true,
    // A push connector's kept connection re-issues IDLE within RFC 2177's 29 minutes.
    maxIdleTime: IDLE_RESTART_MS,
    emitLogs: false,
  } as ImapFlowOptions;
}

function proxyUrlWithPassword(proxy: ProxyAccess): string {
  const url = new URL(proxy.url);
  if (url.username && proxy.password) url.password = encodeURIComponent(proxy.password.reveal());
  return url.href;
}

/** Connections with security NONE whose server offered STARTTLS before the login (see `startTlsOffered`). */
const offeredStartTls = new WeakSet<ImapFlow>();

/** Whether the server offered STARTTLS on a connection the connector keeps in clear (security NONE). */
export function startTlsOffered(client: ImapFlow): boolean {
  return offeredStartTls.has(client);
}

/**
 * Notes whether the pre-login capabilities offered STARTTLS. imapflow refreshes its
 * capability list after the login (when servers stop listing STARTTLS), so the list is read
 * at the one point it decides about the upgrade. Internal API: if a release renames it,
 * the advice is not given (and the test that expects it fails), nothing else changes.
 */
function watchStartTlsOffer(client: ImapFlow): void {
  const c = client as unknown as { upgradeToSTARTTLS?: () => Promise<boolean>; capabilities: Map<string, unknown> };
  const upgrade = c.upgradeToSTARTTLS;
  if (typeof upgrade !== 'function') return;
  c.upgradeToSTARTTLS = function (this: unknown) {
    if (c.capabilities.has('STARTTLS')) offeredStartTls.add(client);
    return upgrade.call(this);
  };
}

/**
 * Watches the TLS session of every TLS socket imapflow opens — implicit TLS, through a proxy,
 * or STARTTLS's — from the moment it is assigned, before its handshake ends (imapflow answers
 * STARTTLS only after a CAPABILITY round trip, by when TLS 1.3 tickets have arrived). Internal
 * API, as for the STARTTLS offer: if a release stops assigning `socket`, sessions are just
 * not kept (and the resumption test fails).
 */
function watchSessions(client: ImapFlow, access: ServerAccess): void {
  const resumption = access.tlsResumption;
  if (!resumption) return;
  let socket: unknown = (client as unknown as { socket?: unknown }).socket;
  Object.defineProperty(client, 'socket', {
    configurable: true,
    enumerable: true,
    get: () => socket,
    set: (next: unknown) => {
      socket = next;
      if (next instanceof TLSSocket) watchSession(next, resumption);
    },
  });
}

/** When each stage of a connection ended (ms since the epoch); a connection test shows each stage's own time. */
export interface ConnectMarks {
  /** The TCP connection (or the proxy's tunnel) stands; a TLS handshake follows for SSL. */
  tcp?: number;
  /** The socket is ready for IMAP: after the TLS handshake for SSL, the TCP connect otherwise. */
  ready?: number;
  greeting?: number;
  starttls?: number;
  login?: number;
}

/**
 * Connects and logs in within the connection timeout; failures become MailboxErrors.
 * `marks` (connection tests only): filled with the stages' times, read from imapflow's log
 * events (emitted only then) and the socket's own connect event.
 */
export async function connectImap(access: ServerAccess, socketTimeoutMs: number, signal?: AbortSignal, marks?: ConnectMarks): Promise<ImapFlow> {
  const client = new ImapFlow({ ...imapOptions(access, socketTimeoutMs), ...(marks ? { emitLogs: true } : {}) });
  // imapflow emits 'error' on socket trouble; without a listener that would crash the process.
  client.on('error', () => undefined);
  if (access.security === 'NONE') watchStartTlsOffer(client);
  watchSessions(client, access);
  if (marks) watchStages(client, marks);
  try {
    const connecting = client.connect();
    // A direct connection's socket exists now (a proxied one's later: its stages then count from the tunnel).
    const socket = (client as unknown as { socket?: { once(e: string, f: () => void): void } }).socket;
    if (marks && socket) socket.once('connect', () => (marks.tcp = Date.now()));
    await withDeadline(
      access.connectTimeoutMs,
      connecting,
      () => new MailboxError('CONNECT_TIMEOUT', `no login within the connection timeout (${access.connectTimeoutMs} ms)`),
      () => client.close(),
      signal,
    );
    return client;
  } catch (err) {
    client.close();
    throw toMailboxError(err, access);
  }
}

function watchStages(client: ImapFlow, marks: ConnectMarks): void {
  client.on('log', (entry: { src?: string; msg?: string }) => {
    const now = Date.now();
    if (entry.src === 's' && marks.greeting === undefined) {
      marks.greeting = now;
      marks.ready = (client as unknown as { connectedAt?: number }).connectedAt ?? marks.tcp;
    } else if (entry.msg === 'Established TLS session') marks.starttls = now;
    else if (entry.msg === 'User authenticated') marks.login = now;
  });
}

export function toMailboxError(err: unknown, access: Pick<ServerAccess, 'security' | 'connectTimeoutMs' | 'login'>): MailboxError {
  if (err instanceof MailboxError) return err;
  const e = err as { authenticationFailed?: boolean; code?: string; message?: string; responseText?: string };
  if (e.authenticationFailed || e.code === 'AUTHENTICATIONFAILED') {
    const what = access.login.kind === 'OAUTH2' ? 'access token refused' : 'login refused';
    return new MailboxError('AUTH_FAILED', `${what}: ${e.responseText ?? e.message ?? 'authentication failed'}`, { cause: err });
  }
  if (access.login.kind === 'OAUTH2' && /Unsupported authentication mechanism/i.test(e.message ?? '')) {
    return new MailboxError('AUTH_FAILED', 'the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2: it does not take OAuth2 logins (use auth type PASSWORD)', { cause: err });
  }
  if (e.code === 'NoConnection' && /STARTTLS/i.test(e.message ?? '')) {
    return new MailboxError('STARTTLS_UNAVAILABLE', 'security is TLS but the server does not offer STARTTLS; refusing to log in in clear', { cause: err });
  }
  if (/STARTTLS/i.test(`${e.message ?? ''}`) && access.security === 'TLS') {
    return new MailboxError('STARTTLS_UNAVAILABLE', `security is TLS but STARTTLS failed: ${e.message ?? ''}`, { cause: err });
  }
  if (e.code === 'CONNECT_TIMEOUT' || e.code === 'GREETING_TIMEOUT' || /timeout/i.test(e.code ?? '')) {
    return new MailboxError('CONNECT_TIMEOUT', `no login within the connection timeout (${access.connectTimeoutMs} ms): ${e.message ?? e.code}`, { cause: err });
  }
  const failure = classifySocketError(err);
  return new MailboxError(failure, `${failure === 'TLS_FAILED' ? 'TLS failed' : 'connection failed'}: ${e.message ?? e.code ?? String(err)}`, { cause: err });
}
