import { join } from 'node:path';
import type { TrackerSession, Transport } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeptTrackerSession } from '../src/network/kept-tracker-session.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { startTracker, type TestTracker, tlsAs } from './support.js';

/* The session a node keeps open between lists and searches: one connection for many questions, never a dead one. */

let dir: string;
let tracker: TestTracker;
let dials: number;
let transport: Transport;

beforeEach(async () => {
  dir = tempDir('p2p-kept-');
  tracker = await startTracker(join(dir, 'tracker.db'));
  dials = 0;
  const tls = tlsAs('asker');
  transport = { canListen: tls.canListen, dial: (to, options) => (dials++, tls.dial(to, options)), listen: (options, onConnection) => tls.listen(options, onConnection) };
});
afterEach(async () => {
  await tracker.close();
  removeDir(dir);
});

const firstPage = (session: TrackerSession) => session.listPage(null, 10);

describe('a tracker session kept between questions', () => {
  it('asks many questions on one connection, and a fresh one after the tracker restarts', async () => {
    const kept = new KeptTrackerSession({ tracker: tracker.address, transport }, 'test (browse)', 60_000);
    for (let i = 0; i < 5; i++) expect((await kept.ask(firstPage)).files).toEqual([]);
    const [a, b] = await Promise.all([kept.ask(firstPage), kept.ask(firstPage)]);
    expect([a.files, b.files]).toEqual([[], []]);
    expect(dials).toBe(1);

    const { port } = tracker.address;
    await tracker.close();
    tracker = await startTracker(join(dir, 'tracker.db'), port);
    expect((await kept.ask(firstPage)).files).toEqual([]);
    expect(dials).toBe(2);
    await kept.close();
  });

  it('closes the session once idle, and after close asks each question on a session of its own', async () => {
    const kept = new KeptTrackerSession({ tracker: tracker.address, transport }, 'test (browse)', 50);
    const first = await kept.ask(async (session) => session);
    await first.whenClosed; // closed by the idle timer, or this test times out
    await kept.ask(firstPage);
    expect(dials).toBe(2);

    await kept.close();
    const after = await kept.ask(async (session) => session);
    await after.whenClosed;
    await kept.ask(firstPage);
    expect(dials).toBe(4);
  });

  it('fails over to a fresh session when the kept one was cut without notice', async () => {
    const kept = new KeptTrackerSession({ tracker: tracker.address, transport }, 'test (browse)', 60_000);
    const first = await kept.ask(async (session) => session);
    // Cut under it, as a dead network path does: the next question finds the connection gone.
    first.connection.socket.destroy();
    expect((await kept.ask(firstPage)).files).toEqual([]);
    expect(dials).toBe(2);
    await kept.close();
  });
});
