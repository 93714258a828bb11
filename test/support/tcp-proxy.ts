import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP forwarder on loopback that a test can cut like a network partition: while cut, bytes are held
 * back in both directions and new connections hang unanswered (nothing is refused or reset, as when a
 * cable is pulled); restored, everything flows again.
 */
export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  /** Bytes read while cut, by the socket they are for. */
  const held = new Map<Socket, Buffer[]>();
  let isCut = false;
  const pump = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (!isCut) return void to.write(chunk);
      from.pause();
      held.set(to, [...(held.get(to) ?? []), chunk]);
    });
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const connect = () => {
      const upstream = createConnection(target);
      sockets.add(upstream);
      upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      pairs.add([client, upstream]);
      pump(client, upstream);
      pump(upstream, client);
    };
    if (!isCut) connect();
    else {
      client.pause();
      waiting.push(connect);
    }
  });
  const waiting: (() => void)[] = [];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      isCut = true;
      for (const [a, b] of pairs) (a.pause(), b.pause());
    },
    restore() {
      isCut = false;
      for (const [to, chunks] of held) for (const chunk of chunks) to.write(chunk);
      held.clear();
      for (const [a, b] of pairs) (a.resume(), b.resume());
      for (const connect of waiting.splice(0)) connect();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
