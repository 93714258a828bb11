import { createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';

/**
 * Fake servers on loopback for the protocol tests. Some never read their sockets, so those would never
 * see the client close by themselves: every accepted socket is destroyed after each test.
 */
export function fakeServers(): (onSocket: (socket: Socket) => void) => Promise<{ host: string; port: number; server: Server }> {
  const servers: Server[] = [];
  const accepted: Socket[] = [];
  afterEach(async () => {
    for (const socket of accepted.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  return async (onSocket) => {
    const server = createServer((socket) => {
      accepted.push(socket);
      onSocket(socket);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { host: '127.0.0.1', port: (server.address() as { port: number }).port, server };
  };
}
