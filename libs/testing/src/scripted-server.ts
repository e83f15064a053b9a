import { createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP server driven by a script, for what real servers will not do on cue:
 * stall, split replies, answer garbage. `onConnect` gets each socket and a line reader.
 */
export async function scriptedServer(onConnect: (socket: Socket, lines: AsyncIterable<string>) => void | Promise<void>): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // A script reading lines from a socket the client closed ends with a rejection; that is expected.
    Promise.resolve()
      .then(() => onConnect(socket, lineReader(socket)))
      .catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function* lineReader(socket: Socket): AsyncGenerator<string> {
  let buf = '';
  for await (const chunk of socket) {
    buf += (chunk as Buffer).toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 2);
    }
  }
}
