import { createHash } from 'node:crypto';
import type { Secret } from '@postbote/crypto';
import { MailboxError, type Login } from '@postbote/mailbox';
import type { Pop3Wire } from './pop3-wire';

// One small function per POP3 command (RFC 1939, 2449 CAPA, 2595 STLS, 5034 SASL PLAIN).

export class Pop3ErrResponse extends Error {
  constructor(
    readonly command: string,
    readonly text: string,
  ) {
    super(`${command}: -ERR ${text}`);
  }
}

/** Status of a reply line, decided from the whole line (never from a TCP chunk's first byte). */
export async function reply(wire: Pop3Wire, command: string, timeoutMs: number): Promise<string> {
  const line = (await wire.readLine(timeoutMs)).toString('latin1');
  if (line.startsWith('+OK')) return line.slice(3).trim();
  if (line.startsWith('-ERR')) throw new Pop3ErrResponse(command, line.slice(4).trim());
  throw new MailboxError('PROTOCOL_ERROR', `unexpected reply to ${command}: ${line.slice(0, 120)}`);
}

/**
 * The lines of a multi-line listing (CAPA, UIDL, LIST), dot-unstuffed, as raw bytes;
 * ends at the lone ".". RFC 1939 §3: a line starting with "." was sent with one more
 * "."; the terminator is ".". Message content is read with Pop3Wire.readBody instead.
 */
export async function* multiline(wire: Pop3Wire, timeoutMs: number): AsyncGenerator<Buffer> {
  for (;;) {
    const line = await wire.readLine(timeoutMs);
    if (line.length === 1 && line[0] === 0x2e) return;
    yield line.length > 0 && line[0] === 0x2e ? line.subarray(1) : line;
  }
}

async function simple(wire: Pop3Wire, line: string, timeoutMs: number, shown = line): Promise<string> {
  wire.write(line);
  return reply(wire, shown, timeoutMs);
}

export async function greeting(wire: Pop3Wire, timeoutMs: number): Promise<string> {
  return reply(wire, 'greeting', timeoutMs);
}

/** CAPA, or an empty set for servers without it. */
export async function capa(wire: Pop3Wire, timeoutMs: number): Promise<Set<string>> {
  wire.write('CAPA');
  try {
    await reply(wire, 'CAPA', timeoutMs);
  } catch (err) {
    if (err instanceof Pop3ErrResponse) return new Set();
    throw err;
  }
  const caps = new Set<string>();
  for await (const line of multiline(wire, timeoutMs)) caps.add(line.toString('latin1').trim().toUpperCase());
  return caps;
}

export const stls = (wire: Pop3Wire, t: number) => simple(wire, 'STLS', t);

/**
 * UTF8 (RFC 6856), valid before login: where offered, the server serves messages with
 * 8-bit headers as they are, instead of replacing them by a generated notice (Courier
 * does that for clients that did not say UTF8). A refusal is not an error.
 */
export async function utf8(wire: Pop3Wire, caps: Set<string>, t: number): Promise<boolean> {
  if (![...caps].some((c) => c === 'UTF8' || c.startsWith('UTF8 '))) return false;
  return simple(wire, 'UTF8', t).then(
    () => true,
    (err: unknown) => {
      if (err instanceof Pop3ErrResponse) return false;
      throw err;
    },
  );
}

/** Logs in with the connector's login: a password (`passwordLogin`) or an OAuth2 access token (`oauthLogin`). */
export async function login(wire: Pop3Wire, caps: Set<string>, banner: string, user: string, secret: Login, t: number): Promise<void> {
  return secret.kind === 'OAUTH2' ? oauthLogin(wire, caps, user, secret.accessToken, t) : passwordLogin(wire, caps, banner, user, secret.password, t);
}

/**
 * SASL OAUTHBEARER (RFC 7628) where offered, else XOAUTH2 (Google's and Microsoft's
 * format), with the initial response on the AUTH line (RFC 5034). A refused token comes
 * back as a "+ " challenge carrying the server's JSON error; the client answers it with the
 * mechanism's abort (\x01 for OAUTHBEARER, an empty line for XOAUTH2) and the server then
 * says -ERR.
 */
async function oauthLogin(wire: Pop3Wire, caps: Set<string>, user: string, token: Secret, t: number): Promise<void> {
  const sasl = saslMechanisms(caps);
  const bearer = sasl.includes('OAUTHBEARER');
  if (!bearer && !sasl.includes('XOAUTH2')) {
    throw new MailboxError('AUTH_FAILED', 'the server offers neither SASL OAUTHBEARER nor XOAUTH2: it does not take OAuth2 logins (use auth type PASSWORD)');
  }
  const payload = bearer ? `n,a=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},\x01auth=Bearer ${token.reveal()}\x01\x01` : `user=${user}\x01auth=Bearer ${token.reveal()}\x01\x01`;
  const mechanism = bearer ? 'OAUTHBEARER' : 'XOAUTH2';
  // The token is only ever written to the socket, never into an error or log line.
  wire.write(`AUTH ${mechanism} ${Buffer.from(payload, 'utf8').toString('base64')}`);
  const line = (await wire.readLine(t)).toString('latin1');
  if (line.startsWith('+ ') || line === '+') {
    wire.write(bearer ? 'AQ==' : '');
    await reply(wire, `AUTH ${mechanism}`, t);
    throw new MailboxError('PROTOCOL_ERROR', `AUTH ${mechanism}: the server accepted the abort of a refused login`);
  }
  if (line.startsWith('+OK')) return;
  if (line.startsWith('-ERR')) throw new Pop3ErrResponse(`AUTH ${mechanism}`, line.slice(4).trim());
  throw new MailboxError('PROTOCOL_ERROR', `unexpected reply to AUTH ${mechanism}: ${line.slice(0, 120)}`);
}

const saslMechanisms = (caps: Set<string>) => [...caps].find((c) => c.startsWith('SASL '))?.split(/\s+/) ?? [];

/** SASL PLAIN if offered, APOP if only that, else USER/PASS. */
async function passwordLogin(wire: Pop3Wire, caps: Set<string>, banner: string, user: string, password: Secret, t: number): Promise<void> {
  const sasl = saslMechanisms(caps);
  const stamp = /<[^>]+>/.exec(banner)?.[0];
  if (sasl.includes('PLAIN')) {
    // The secret is only ever written to the socket, never into an error or log line.
    const token = Buffer.from(`\0${user}\0${password.reveal()}`, 'utf8').toString('base64');
    await simple(wire, `AUTH PLAIN ${token}`, t, 'AUTH PLAIN');
    return;
  }
  if (!caps.has('USER') && caps.size > 0 && stamp) {
    const digest = createHash('md5').update(stamp + password.reveal(), 'utf8').digest('hex');
    await simple(wire, `APOP ${user} ${digest}`, t, 'APOP');
    return;
  }
  await simple(wire, `USER ${user}`, t, 'USER');
  await simple(wire, `PASS ${password.reveal()}`, t, 'PASS');
}

/** UIDL: message number → unique id, in server order (oldest first). */
export async function uidl(wire: Pop3Wire, t: number): Promise<Array<{ n: number; uidl: string }>> {
  wire.write('UIDL');
  await reply(wire, 'UIDL', t);
  const out: Array<{ n: number; uidl: string }> = [];
  for await (const line of multiline(wire, t)) {
    const [n, id] = line.toString('latin1').trim().split(/\s+/);
    if (!n || !id || !/^\d+$/.test(n)) throw new MailboxError('PROTOCOL_ERROR', `malformed UIDL line: ${line.toString('latin1').slice(0, 80)}`);
    out.push({ n: Number(n), uidl: id });
  }
  return out;
}

/** LIST: message number → size in octets. */
export async function list(wire: Pop3Wire, t: number): Promise<Map<number, number>> {
  wire.write('LIST');
  await reply(wire, 'LIST', t);
  const sizes = new Map<number, number>();
  for await (const line of multiline(wire, t)) {
    const [n, size] = line.toString('latin1').trim().split(/\s+/);
    if (!n || !size || !/^\d+$/.test(n) || !/^\d+$/.test(size)) throw new MailboxError('PROTOCOL_ERROR', `malformed LIST line: ${line.toString('latin1').slice(0, 80)}`);
    sizes.set(Number(n), Number(size));
  }
  return sizes;
}

export const stat = (wire: Pop3Wire, t: number) => simple(wire, 'STAT', t);

/** A retrieved message: its body as it arrives, or the server's refusal (e.g. deleted meanwhile). */
export type Retrieved = { readonly n: number; readonly body: AsyncIterable<Buffer> } | { readonly n: number; readonly refused: string };

export interface RetrWindow {
  /** RETRs on the wire ahead of the reply being read (1 = no pipelining). */
  readonly messages: number;
  /** Listed bytes of those, at most (one larger message still goes alone). */
  readonly bytes: number;
}

/**
 * RETR of several messages in order. Where the server advertises PIPELINING (RFC 2449)
 * the next requests go out while earlier replies are read, within `window`; otherwise
 * one at a time. Each body is the message exactly as the server holds it (dot-unstuffed,
 * never decoded) and must be read to its end before the next is asked for.
 */
export async function* retrieve(wire: Pop3Wire, messages: ReadonlyArray<{ n: number; size: number }>, window: RetrWindow, t: number): AsyncGenerator<Retrieved> {
  let sent = 0;
  let aheadBytes = 0;
  for (const [i, m] of messages.entries()) {
    const lines: string[] = [];
    for (let next = messages[sent]; next && (sent === i || (sent - i < window.messages && aheadBytes + next.size <= window.bytes)); next = messages[sent]) {
      lines.push(`RETR ${next.n}`);
      aheadBytes += next.size;
      sent++;
    }
    wire.writeLines(lines);
    aheadBytes -= m.size;
    try {
      await reply(wire, `RETR ${m.n}`, t);
    } catch (err) {
      if (!(err instanceof Pop3ErrResponse)) throw err;
      yield { n: m.n, refused: err.text };
      continue;
    }
    yield { n: m.n, body: wire.readBody(t) };
  }
}

export async function quit(wire: Pop3Wire, t: number): Promise<void> {
  await simple(wire, 'QUIT', t).catch(() => undefined);
}
