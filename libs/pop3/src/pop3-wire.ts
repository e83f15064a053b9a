import { connect as netConnect, type Socket } from 'node:net';
import type { TLSSocket, ConnectionOptions } from 'node:tls';
import { MailboxError, classifySocketError, connectThroughProxy, connectTls, type ProxyAccess, type TlsResumption } from '@postbote/mailbox';
import { DotDecoder } from './dot-decoder';

const CRLF = Buffer.from('\r\n');
/**
 * Longest status or listing line (+OK…, a UIDL or LIST entry). Message content is read
 * with `readBody`, which has no line limit at all.
 */
const MAX_LINE = 1024 * 1024;
/** Unread bytes at which the socket is paused until the reader catches up. */
const HIGH_WATER = 4 * 1024 * 1024;

/** TLS options of a connection, with the connector's session to offer and renew. */
export interface WireTls extends ConnectionOptions {
  readonly resumption?: TlsResumption | undefined;
}

function openTls({ resumption, ...options }: WireTls): TLSSocket {
  return connectTls(options, resumption);
}

/**
 * The byte layer of a POP3 session: a socket and the chunks that arrived, unread. Lines
 * are found across chunks, so a reply or a terminator split across packets or TLS
 * records reads the same as one that arrived whole. Everything is bytes (Buffer):
 * message content is never decoded, so 8-bit mail passes unchanged. Reading is
 * backpressured: past HIGH_WATER unread bytes the socket pauses (pipelined replies
 * then wait in the server's TCP buffers, not in our memory).
 */
export class Pop3Wire {
  #socket: Socket | TLSSocket;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #ended = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  /** `onTcp`: called once the TCP connection (or the proxy's tunnel) stands, before any TLS handshake (a connection test times the two apart). */
  static async open(host: string, port: number, tls: WireTls | null, timeoutMs: number, localAddress?: string | null, proxy?: ProxyAccess | null, onTcp?: () => void): Promise<Pop3Wire> {
    if (proxy) {
      // Through the proxy: TLS (implicit) runs end to end over the tunnel.
      const tunnel = await connectThroughProxy(proxy, host, port, timeoutMs);
      onTcp?.();
      if (!tls) {
        // The tunnel comes paused (the greeting may already be in it): read once listening.
        const wire = new Pop3Wire(tunnel);
        tunnel.resume();
        return wire;
      }
      // Implicit TLS: the server says nothing before the client's hello.
      tunnel.resume();
      const wrapped = openTls({ socket: tunnel, servername: isIp(host) ? undefined : host, ...tls });
      await waitConnected(wrapped, 'secureConnect', timeoutMs).catch((err: unknown) => {
        tunnel.destroy();
        throw err;
      });
      return new Pop3Wire(wrapped);
    }
    const from = localAddress ? { localAddress } : {};
    const socket = tls ? openTls({ host, port, servername: isIp(host) ? undefined : host, ...from, ...tls }) : netConnect({ host, port, ...from });
    // A TLS socket emits 'connect' when its TCP connection stands, 'secureConnect' after the handshake.
    if (onTcp) socket.once('connect', onTcp);
    await waitConnected(socket, tls ? 'secureConnect' : 'connect', timeoutMs);
    return new Pop3Wire(socket);
  }

  get secure(): boolean {
    return 'encrypted' in this.#socket && Boolean((this.#socket as TLSSocket).encrypted);
  }

  /** STLS: wraps the same socket in TLS; nothing buffered may remain from before. */
  async upgrade(host: string, tls: WireTls, timeoutMs: number): Promise<void> {
    if (this.#buffered > 0) throw new MailboxError('PROTOCOL_ERROR', 'server sent data after accepting STLS');
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const wrapped = openTls({ socket: plain, servername: isIp(host) ? undefined : host, ...tls });
    await waitConnected(wrapped, 'secureConnect', timeoutMs);
    this.#socket = wrapped;
    this.#attach(wrapped);
  }

  write(line: string): void {
    this.#socket.write(`${line}\r\n`, 'latin1');
  }

  /** Writes several command lines at once (pipelining, RFC 2449). */
  writeLines(lines: readonly string[]): void {
    if (lines.length) this.#socket.write(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
  }

  /** The next line, without its CRLF. Rejects after `timeoutMs` of silence. */
  async readLine(timeoutMs: number): Promise<Buffer> {
    let searched = 0;
    for (;;) {
      if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
      const buf = this.#chunks[0];
      const i = buf ? buf.indexOf(CRLF, Math.max(0, searched - 1)) : -1;
      if (buf && i >= 0) {
        this.#consume(i + 2);
        return buf.subarray(0, i);
      }
      searched = this.#buffered;
      if (this.#buffered > MAX_LINE) throw new MailboxError('PROTOCOL_ERROR', `reply line longer than ${MAX_LINE} bytes without CRLF`);
      await this.#more(timeoutMs);
    }
  }

  /**
   * The body of a multi-line reply (after its +OK line), dot-unstuffed, in pieces as
   * they arrive, up to the terminating "." line; what follows it stays for the next
   * read. Rejects after `timeoutMs` of silence or when the connection ends first, so a
   * cut transfer never looks like a complete one.
   */
  async *readBody(timeoutMs: number): AsyncGenerator<Buffer> {
    const decoder = new DotDecoder();
    for (;;) {
      const input = this.#takeAll();
      if (input) {
        const step = decoder.push(input);
        if (step.done) {
          if (step.rest.length) this.#unshift(step.rest);
          if (step.parts.length) yield joined(step.parts);
          return;
        }
        if (step.parts.length) yield joined(step.parts);
        continue;
      }
      await this.#more(timeoutMs);
    }
  }

  /** Waits for more bytes; fails if the connection failed or ended. */
  async #more(timeoutMs: number): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#ended) throw new MailboxError('CONNECTION_FAILED', 'server closed the connection');
    await this.#wait(timeoutMs);
  }

  #takeAll(): Buffer | undefined {
    if (this.#buffered === 0) return undefined;
    const all = joined(this.#chunks);
    this.#chunks = [];
    this.#buffered = 0;
    this.#resume();
    return all;
  }

  #unshift(rest: Buffer): void {
    this.#chunks.unshift(rest);
    this.#buffered += rest.length;
  }

  #consume(n: number): void {
    const buf = this.#chunks[0];
    if (!buf) return;
    if (n >= buf.length) this.#chunks.shift();
    else this.#chunks[0] = buf.subarray(n);
    this.#buffered -= n;
    this.#resume();
  }

  #resume(): void {
    if (this.#buffered < HIGH_WATER && this.#socket.isPaused()) this.#socket.resume();
  }

  close(): void {
    this.#socket.destroy();
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered >= HIGH_WATER) socket.pause();
      this.#wake();
    });
    socket.on('error', (err) => {
      this.#error = new MailboxError(classifySocketError(err), `connection error: ${err.message}`, { cause: err });
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        this.close();
        reject(new MailboxError('FETCH_TIMEOUT', `server silent for ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** One buffer of the parts, without a copy when there is only one. */
function joined(parts: Buffer[]): Buffer {
  const [only, ...more] = parts;
  return only && more.length === 0 ? only : Buffer.concat(parts);
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function waitConnected(socket: Socket | TLSSocket, event: 'connect' | 'secureConnect', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new MailboxError('CONNECT_TIMEOUT', `no connection within the connection timeout (${timeoutMs} ms)`));
    }, timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      const failure = classifySocketError(err);
      reject(new MailboxError(failure, `${failure === 'TLS_FAILED' ? 'TLS failed' : 'connection failed'}: ${err.message}`, { cause: err }));
    });
  });
}
