import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectBackArrivals } from '../src/connect-back/arrivals.js';

/* The door's bookkeeping: connections matched to tokens, early ones kept a moment, impostors dropped. */

const HOLDER = 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA';
const OTHER = 'BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB';
const token = 'a'.repeat(32);
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

/** A real loopback connection (its accepted end). */
async function connection(): Promise<Socket> {
  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer(resolve).listen(0, '127.0.0.1');
    servers.push(server);
    server.once('listening', () => sockets.push(new Socket().connect((server.address() as { port: number }).port, '127.0.0.1')));
  });
  const socket = await accepted;
  sockets.push(socket);
  return socket;
}

const remote = (id: string) => ({ host: '127.0.0.1', port: 1, id });
/** Runs `body` on a fake clock (the arrivals' timers), back on the real one after. */
async function onFakeClock(body: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await body();
  } finally {
    vi.useRealTimers();
  }
}

describe('connect-back arrivals', () => {
  it('keeps an early arrival until it is claimed, and never drops it once claimed', async () => {
    const arrivals = new ConnectBackArrivals(50);
    const socket = await connection();
    await onFakeClock(async () => {
      arrivals.take(socket, remote(HOLDER), { type: 'connect_back', token });
      expect(await arrivals.arrival(token, HOLDER, 1_000)).toBe(socket);
      vi.advanceTimersByTime(120); // past the early-arrival limit
      expect(socket.destroyed).toBe(false);
    });
  });

  it('drops an early arrival nobody claims in time', async () => {
    const arrivals = new ConnectBackArrivals(50);
    const socket = await connection();
    await onFakeClock(async () => {
      arrivals.take(socket, remote(HOLDER), { type: 'connect_back', token });
      vi.advanceTimersByTime(120);
      expect(socket.destroyed).toBe(true);
      const claimed = arrivals.arrival(token, HOLDER, 50);
      vi.advanceTimersByTime(50);
      await expect(claimed).rejects.toMatchObject({ code: 'TIMEOUT' });
    });
  });

  it('refuses a connection with the right token from another identity, and drops it', async () => {
    const arrivals = new ConnectBackArrivals();
    const socket = await connection();
    const claimed = arrivals.arrival(token, HOLDER, 1_000);
    arrivals.take(socket, remote(OTHER), { type: 'connect_back', token });
    await expect(claimed).rejects.toMatchObject({ code: 'IDENTITY_MISMATCH' });
    expect(socket.destroyed).toBe(true);
  });
});
