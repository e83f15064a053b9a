import { MailboxError, tlsContextFor, withDeadline, type ServerAccess, type TestStepResult } from '@postbote/mailbox';
import { Pop3ErrResponse, capa, greeting, login, stls, utf8 } from './pop3-commands';
import { Pop3Wire, type WireTls } from './pop3-wire';

export interface Pop3Session {
  readonly wire: Pop3Wire;
  readonly caps: Set<string>;
  readonly banner: string;
}

function tlsOptions(access: ServerAccess): WireTls {
  return { rejectUnauthorized: true, secureContext: tlsContextFor(access.trustedCaPem), resumption: access.tlsResumption };
}

/**
 * Connect and log in within the connection timeout. SSL: TLS from the first byte (995).
 * TLS: STLS on the plain port, and if the server does not offer it the session ends
 * before any credential is sent. NONE: plaintext, only when chosen.
 */
export async function openPop3(access: ServerAccess, commandTimeoutMs: number, steps?: TestStepResult[], signal?: AbortSignal): Promise<Pop3Session> {
  let wire: Pop3Wire | undefined;
  // Set when the deadline passed or the run was aborted: a connection still being opened
  // then is closed the moment it opens, instead of logging in for a run that is over.
  let abandoned = false;
  // Each step's own time: from the end of the step before (a connection test shows where the time goes).
  let last = Date.now();
  let tcpAt: number | undefined;
  const step = (name: string, ok: boolean, detail: string, endedAt = Date.now()) => {
    steps?.push({ name, ok, detail, durationMs: Math.max(0, endedAt - last) });
    last = endedAt;
  };
  const work = (async () => {
    wire = await Pop3Wire.open(access.host, access.port, access.security === 'SSL' ? tlsOptions(access) : null, access.connectTimeoutMs, access.sourceAddress, access.proxy, () => (tcpAt = Date.now()));
    if (abandoned) {
      wire.close();
      throw new MailboxError('CONNECTION_FAILED', 'the run ended while the connection was being opened');
    }
    step('TCP', true, `connected to ${access.host}:${access.port}`, access.security === 'SSL' ? tcpAt : undefined);
    if (access.security === 'SSL') step('TLS', true, 'certificate verified');
    const banner = await greeting(wire, access.connectTimeoutMs);
    step('GREETING', true, banner);
    let caps = await capa(wire, commandTimeoutMs);
    if (access.security === 'TLS') {
      if (!caps.has('STLS')) throw new MailboxError('STARTTLS_UNAVAILABLE', 'security is TLS but the server does not offer STLS; refusing to log in in clear');
      await stls(wire, commandTimeoutMs);
      await wire.upgrade(access.host, tlsOptions(access), access.connectTimeoutMs);
      step('STLS', true, 'certificate verified');
      caps = await capa(wire, commandTimeoutMs);
    }
    await utf8(wire, caps, commandTimeoutMs);
    try {
      await login(wire, caps, banner, access.username, access.login, commandTimeoutMs);
    } catch (err) {
      if (err instanceof Pop3ErrResponse) throw new MailboxError('AUTH_FAILED', `${access.login.kind === 'OAUTH2' ? 'access token refused' : 'login refused'}: ${err.text}`, { cause: err });
      throw err;
    }
    step('LOGIN', true, `logged in as ${access.username}`);
    return { wire, caps, banner };
  })();
  try {
    return await withDeadline(
      access.connectTimeoutMs,
      work,
      () => new MailboxError('CONNECT_TIMEOUT', `no login within the connection timeout (${access.connectTimeoutMs} ms)`),
      () => {
        abandoned = true;
        wire?.close();
      },
      signal,
    );
  } catch (err) {
    wire?.close();
    const e = err instanceof MailboxError ? err : new MailboxError('PROTOCOL_ERROR', (err as Error).message, { cause: err });
    const name = e.failure === 'AUTH_FAILED' ? 'LOGIN' : e.failure === 'TLS_FAILED' ? (access.security === 'TLS' ? 'STLS' : 'TLS') : e.failure === 'STARTTLS_UNAVAILABLE' ? 'STLS' : steps?.length ? 'GREETING' : 'TCP';
    step(name, false, e.message);
    throw e;
  }
}
