import { join } from 'node:path';
import { ALL_FEATURES, encodeFrame, FramedConnection, PROTOCOL_VERSION, senderOf } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';
import { eventually } from '@p2pservice/test-support/wait';
import { tempDir } from './helpers.js';

/* Bans as the wire shows them: refused after the hello, in the words the client's features allow. */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
beforeEach(async () => {
  dir = tempDir();
  tracker = await startTestTracker(join(dir.path, 'bans.db'), { limits: { banRefreshMs: 20 } });
});
afterEach(async () => {
  await tracker.close();
  dir.remove();
});

/** Says hello as the test identity "peer" with `features`; returns the first frame the tracker answers. */
async function answerTo(features: readonly string[]): Promise<Record<string, unknown>> {
  const socket = await tlsAs('peer').dial({ host: '127.0.0.1', port: tracker.address.port });
  const connection = new FramedConnection(socket, z.unknown());
  await connection.write(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'bans-test', features }));
  try {
    return (await connection.receive(2_000)) as Record<string, unknown>;
  } finally {
    connection.destroy();
  }
}

describe('a banned client', () => {
  it('is refused with BANNED when it knows the feature, ACCESS_DENIED when not, and welcomed once the ban ends', async () => {
    expect((await answerTo(ALL_FEATURES)).type).toBe('welcome');
    await tracker.store.bans.ban(testIdentity('peer').id, Date.now() + 60_000, Date.now());
    await eventually(async () => (await answerTo(ALL_FEATURES)).type === 'error');
    expect(await answerTo(ALL_FEATURES)).toMatchObject({ type: 'error', id: null, code: 'BANNED', message: expect.stringMatching(/^this identity is banned from the network until \d{4}-/) });
    expect(await answerTo(ALL_FEATURES.filter((f) => f !== 'banned'))).toMatchObject({ type: 'error', code: 'ACCESS_DENIED' });
    await tracker.store.bans.unban(testIdentity('peer').id);
    await eventually(async () => (await answerTo(ALL_FEATURES)).type === 'welcome');
  });

  it('by address is dropped while connected, told why', async () => {
    const banned = await tlsAs('peer').dial({ host: '127.0.0.1', port: tracker.address.port });
    const connection = new FramedConnection(banned, z.unknown());
    await connection.write(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'bans-test', features: ALL_FEATURES }));
    expect(((await connection.receive(2_000)) as { type: string }).type).toBe('welcome');
    await tracker.store.bans.ban(senderOf('127.0.0.1'), null, Date.now());
    expect(await connection.receive(2_000)).toMatchObject({ type: 'error', id: null, code: 'BANNED', message: 'address 127.0.0.1 is banned from the network for good' });
    connection.destroy();
  });
});
