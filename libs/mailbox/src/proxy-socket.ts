import { connect as netConnect, type Socket } from 'node:net';
import { SocksClient } from 'socks';
import { MailboxError } from './mailbox-errors';
import type { ProxyAccess } from './mailbox-types';

const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;

/**
 * A TCP connection to `host:port` through the connector's proxy: SOCKS5 (RFC 1928, with
 * user/password authentication, RFC 1929, when the URL names a user; the proxy resolves
 * the host) or HTTP CONNECT (RFC 9110 §9.3.6, Basic proxy authentication). TLS, when the
 * connector uses it, runs end to end over the returned socket: the proxy sees only
 * ciphertext. A refusal names the proxy, never its password. The socket comes back
 * paused: the server may have spoken already (a POP3 greeting right behind the proxy's
 * answer), and those bytes must wait for the caller's listener. (imapflow has the same
 * proxy support built in; the IMAP client uses that, the POP3 client this.)
 */
export async function connectThroughProxy(proxy: ProxyAccess, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const url = new URL(proxy.url);
  const user = decodeURIComponent(url.username);
  const where = `proxy ${url.host}`;
  if (url.protocol === 'socks5:') {
    try {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: url.hostname, port: Number(url.port), type: 5, ...(user ? { userId: user, password: proxy.password?.reveal() ?? '' } : {}) },
        command: 'connect',
        destination: { host, port },
        timeout: timeoutMs,
      });
      socket.pause();
      return socket;
    } catch (err) {
      throw new MailboxError('CONNECTION_FAILED', `${where} did not connect to ${host}:${port}: ${(err as Error).message}`, { cause: err });
    }
  }
  return httpConnect(url, user, proxy, host, port, timeoutMs, where);
}

async function httpConnect(url: URL, user: string, proxy: ProxyAccess, host: string, port: number, timeoutMs: number, where: string): Promise<Socket> {
  const socket = netConnect({ host: url.hostname, port: Number(url.port) });
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const auth = user ? `Proxy-Authorization: Basic ${Buffer.from(`${user}:${proxy.password?.reveal() ?? ''}`, 'utf8').toString('base64')}\r\n` : '';
  return new Promise<Socket>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new MailboxError('CONNECTION_FAILED', `${where}: ${message}`, cause === undefined ? undefined : { cause }));
    };
    const timer = setTimeout(() => fail(`no answer to CONNECT within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (err) => fail(`did not connect to ${host}:${port}: ${err.message}`, err));
    socket.once('connect', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEADER_BYTES) fail('answered CONNECT with an oversized header');
        return;
      }
      socket.removeListener('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200') return fail(`refused CONNECT to ${authority} (${status ? `HTTP ${status}` : 'not an HTTP answer'})`);
      clearTimeout(timer);
      socket.pause();
      socket.removeAllListeners('error');
      // Bytes after the header already belong to the mail server's greeting.
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
