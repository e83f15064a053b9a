import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { MailboxError, classifySocketError } from '@postbote/mailbox';

const CRLF = Buffer.from('\r\n');
const MAX_LINE = 64 * 1024;

/**
 * The byte layer of a POP3 session: a socket and a buffer of what arrived. Lines are
 * found in the buffer, not per TCP chunk, so a reply or a "\r\n.\r\n" terminator split
 * across packets or TLS records reads the same as one that arrived whole. Everything is
 * bytes (Buffer): message content is never decoded, so 8-bit mail passes unchanged.
 */
export class Pop3Wire {
  #socket: Socket | TLSSocket;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #error: Error | undefined;
  #ended = false;

  private constructor(socket: Socket | TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async open(host: string, port: number, tls: ConnectionOptions | null, timeoutMs: number): Promise<Pop3Wire> {
    const socket = tls ? tlsConnect({ host, port, servername: isIp(host) ? undefined : host, ...tls }) : netConnect({ host, port });
    await waitConnected(socket, tls ? 'secureConnect' : 'connect', timeoutMs);
    return new Pop3Wire(socket);
  }

  get secure(): boolean {
    return 'encrypted' in this.#socket && Boolean((this.#socket as TLSSocket).encrypted);
  }

  /** STLS: wraps the same socket in TLS; nothing buffered may remain from before. */
  async upgrade(host: string, tls: ConnectionOptions, timeoutMs: number): Promise<void> {
    if (this.#buf.length > 0) throw new MailboxError('PROTOCOL_ERROR', 'server sent data after accepting STLS');
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, servername: isIp(host) ? undefined : host, ...tls });
    await waitConnected(secure, 'secureConnect', timeoutMs);
    this.#socket = secure;
    this.#attach(secure);
  }

  write(line: string): void {
    this.#socket.write(`${line}\r\n`, 'latin1');
  }

  /** The next line, without its CRLF. Rejects after `timeoutMs` of silence. */
  async readLine(timeoutMs: number): Promise<Buffer> {
    for (;;) {
      const i = this.#buf.indexOf(CRLF);
      if (i >= 0) {
        const line = this.#buf.subarray(0, i);
        this.#buf = this.#buf.subarray(i + 2);
        return line;
      }
      if (this.#buf.length > MAX_LINE) throw new MailboxError('PROTOCOL_ERROR', `line longer than ${MAX_LINE} bytes without CRLF`);
      if (this.#error) throw this.#error;
      if (this.#ended) throw new MailboxError('CONNECTION_FAILED', 'server closed the connection');
      await this.#wait(timeoutMs);
    }
  }

  close(): void {
    this.#socket.destroy();
  }

  #attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
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
