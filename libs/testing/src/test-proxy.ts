import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TestProxyOptions {
  readonly kind: 'socks5' | 'http';
  /** Require these credentials (SOCKS5 user/password, HTTP Basic). */
  readonly user?: string;
  readonly password?: string;
  /** Connect onward from this local address (e.g. 127.0.0.2), so the server sees the proxy's address. */
  readonly localAddress?: string;
}

/**
 * A SOCKS5 (RFC 1928/1929) or HTTP CONNECT proxy on loopback for tests: it checks the
 * credentials, records each tunnel's target, and relays bytes unchanged.
 */
export class TestProxy {
  /** `host:port` of every tunnel opened, in order. */
  readonly tunnels: string[] = [];
  /** Connections refused for bad credentials. */
  refused = 0;

  private constructor(
    private readonly server: Server,
    readonly options: TestProxyOptions,
  ) {}

  static async start(options: TestProxyOptions): Promise<TestProxy> {
    const box: { self?: TestProxy } = {};
    const server = createServer((client) => {
      client.on('error', () => undefined);
      const self = box.self;
      if (!self) return void client.destroy();
      if (options.kind === 'socks5') void self.#socks(client);
      else self.#http(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    box.self = new TestProxy(server, options);
    return box.self;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** The connector's proxy_url for this proxy. */
  get url(): string {
    return `${this.options.kind}://${this.options.user ? `${encodeURIComponent(this.options.user)}@` : ''}127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #relay(client: Socket, host: string, port: number, onOpen: () => void): void {
    this.tunnels.push(`${host}:${port}`);
    const upstream = connect({ host, port, ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) }, () => {
      onOpen();
      client.pipe(upstream).pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  }

  async #socks(client: Socket): Promise<void> {
    const reader = byteReader(client);
    const [version, methods] = await reader(2);
    await reader(methods ?? 0);
    if (version !== 5) return void client.destroy();
    if (this.options.user !== undefined) {
      client.write(Buffer.from([5, 2]));
      const [, ulen] = await reader(2);
      const user = (await reader(ulen ?? 0)).toString('utf8');
      const [plen] = await reader(1);
      const password = (await reader(plen ?? 0)).toString('utf8');
      const ok = user === this.options.user && password === this.options.password;
      client.write(Buffer.from([1, ok ? 0 : 1]));
      if (!ok) {
        this.refused++;
        return void client.end();
      }
    } else {
      client.write(Buffer.from([5, 0]));
    }
    const [, , , atyp] = await reader(4);
    let host: string;
    if (atyp === 1) host = [...(await reader(4))].join('.');
    else if (atyp === 3) host = (await reader((await reader(1))[0] ?? 0)).toString('utf8');
    else return void client.destroy();
    const port = (await reader(2)).readUInt16BE(0);
    reader.release();
    this.#relay(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0])));
  }

  #http(client: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.removeListener('data', onData);
      client.pause();
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const target = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
      const auth = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]+:\s*Basic\s+/i, '');
      if (this.options.user !== undefined && auth !== Buffer.from(`${this.options.user}:${this.options.password ?? ''}`).toString('base64')) {
        this.refused++;
        return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
      }
      if (!target?.[1] || !target[2]) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      this.#relay(client, target[1].replace(/^\[|\]$/g, ''), Number(target[2]), () => client.write('HTTP/1.1 200 Connection established\r\n\r\n'));
    };
    client.on('data', onData);
  }
}

/** Reads exact byte counts from a socket until released (then the socket flows again). */
function byteReader(socket: Socket): ((n: number) => Promise<Buffer>) & { release(): void } {
  let buffered = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void } | undefined;
  const pump = () => {
    if (waiting && buffered.length >= waiting.n) {
      const out = buffered.subarray(0, waiting.n);
      buffered = buffered.subarray(waiting.n);
      const w = waiting;
      waiting = undefined;
      w.resolve(out);
    }
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    pump();
  };
  socket.on('data', onData);
  const read = (n: number) =>
    new Promise<Buffer>((resolve) => {
      waiting = { n, resolve };
      pump();
    });
  return Object.assign(read, {
    release: () => {
      socket.removeListener('data', onData);
      socket.pause();
      if (buffered.length > 0) socket.unshift(buffered);
    },
  });
}
