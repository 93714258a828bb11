import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTrackerSettings, startTracker } from '../src/index.js';
import { testIdentity } from '@p2pservice/test-support/tls';
import { tempDir } from './helpers.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listen(port = 0): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server)));
}
const portOf = (server: Server) => (server.address() as { port: number }).port;
const closed = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('startTracker, the tracker as a library', () => {
  it('starts from loaded settings, with its status page, and closes everything with one call', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const settings = loadTrackerSettings({ env: { TRACKER_DB: `${dir.path}/t.db`, TRACKER_HOST: '127.0.0.1', TRACKER_PORT: '0', TRACKER_HTTP_PORT: '0' }, dotenv: {} });
    const tracker = await startTracker(settings, { logger, configDir: dir.path });
    expect(tracker.addresses).toEqual([`127.0.0.1:${tracker.server.address.port}#${tracker.identity.id}`]);
    const health = await fetch(`http://127.0.0.1:${tracker.status!.address.port}/healthz`);
    expect(health.status).toBe(200);
    await tracker.close();
    // Both ports are free again.
    cleanups.push(async () => closed(await listen(tracker.server.address.port)));
    cleanups.push(async () => closed(await listen(tracker.status!.address.port)));
  });

  it('undoes what it made when a later step fails: a taken status port leaves no tracker listening', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const taken = await listen();
    cleanups.push(() => closed(taken));
    const free = await listen();
    const trackerPort = portOf(free);
    await closed(free);
    await expect(
      startTracker({ db: `${dir.path}/t.db`, host: '127.0.0.1', port: trackerPort, httpPort: portOf(taken) }, { logger, identity: testIdentity('tracker') }),
    ).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
    // The tracker's own port was let go, and its database closed: a second start on both works.
    const again = await startTracker({ db: `${dir.path}/t.db`, host: '127.0.0.1', port: trackerPort }, { logger, identity: testIdentity('tracker') });
    expect(again.server.address.port).toBe(trackerPort);
    await again.close();
  });
});
