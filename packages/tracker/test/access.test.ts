import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateNetworkKey, parseNetworkKey, TrackerSession } from '@p2pservice/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, TrackerServer } from '../src/index.js';
import { DenialLog } from '../src/server/denials.js';
import { listeningPort } from '@p2pservice/test-support/processes';
import { anonymousTls, testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';
import { sha, tempDir } from './helpers.js';

/* Who gets in: members of a private network, peers with an identity to share under, the right holder. */

const key = parseNetworkKey(generateNetworkKey());
let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
beforeEach(async () => {
  dir = tempDir();
  tracker = await startTestTracker(join(dir.path, 'private.db'), { networkKey: key });
});
afterEach(async () => {
  await tracker.close();
  dir.remove();
});

const member = { transport: tlsAs('peer'), networkKey: key };

describe('a private network', () => {
  it('lets members in, and says it is private', async () => {
    const listener = await listeningPort();
    const peer = await TrackerSession.open(tracker.address, member);
    expect(peer.isPrivateNetwork).toBe(true);
    expect(peer.serverId).toBe(tracker.address.id);
    await peer.register(listener.port, [{ name: 'members.txt', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const lister = await TrackerSession.open(tracker.address, { transport: anonymousTls, networkKey: key });
    expect((await lister.whoHas('members.txt'))[0]!.holders).toEqual([{ host: '127.0.0.1', port: listener.port, id: testIdentity('peer').id, root: 'e'.repeat(64) }]);
    await lister.close();
    await peer.close();
    await listener.close();
  });

  it('refuses a client without the key or with another one: ACCESS_DENIED, closed, nothing listed', async () => {
    for (const options of [{ transport: tlsAs('peer') }, { transport: tlsAs('peer'), networkKey: parseNetworkKey(generateNetworkKey()) }]) {
      await expect(TrackerSession.open(tracker.address, options)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    }
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });
  });

  it('logs refused clients, at most 10 lines a minute', async () => {
    await tracker.close();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const store = await SqliteStore.open(join(dir.path, 'logged.db'));
    const server = await TrackerServer.start({ host: '127.0.0.1', port: 0, store, logger: pino({ level: 'info' }, sink), transport: tlsAs('tracker'), networkKey: key });
    try {
      for (let i = 0; i < 25; i++) await expect(TrackerSession.open(server.address)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      // Each refusal was logged (or counted) before its error frame was sent, and every one was awaited.
      const denials = lines.filter((l) => String(l.msg).startsWith('access denied'));
      expect(denials).toHaveLength(10);
      expect(denials[0]).toMatchObject({ level: 40, remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), msg: 'access denied: this network is private: the hello carried no proof of its key' });
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('the log of refused clients', () => {
  it('says how many it left out, in the first line of the next window', async () => {
    const lines: Record<string, unknown>[] = [];
    let now = 1_000_000;
    const log = new DenialLog(pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) })), 10, 50, () => now);
    for (let i = 0; i < 25; i++) log.denied(`10.0.0.9:${1000 + i}`, 'wrong network key');
    expect(lines).toHaveLength(10);
    now += 60;
    log.denied('10.0.0.9:2000', 'wrong network key');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatchObject({ remote: '10.0.0.9:2000', suppressed: 15 });
  });
});

describe('sharing needs an identity', () => {
  it('refuses to list a share registered without a client certificate', async () => {
    const anonymous = await TrackerSession.open(tracker.address, { transport: anonymousTls, networkKey: key });
    await expect(anonymous.register(4000, [{ name: 'nobody.txt', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }])).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: expect.stringContaining('sharing needs an identity'),
    });
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });
  });

  it('lists a share at its port only if the same identity answers there; else as firewalled, or not at all', async () => {
    const impostor = await listeningPort('someone-else');
    const files = [{ name: 'taken.txt', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }];
    const withoutConnectBack = await TrackerSession.open(tracker.address, { ...member, features: ['who_has_content', 'search'] });
    await expect(withoutConnectBack.register(impostor.port, files)).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringContaining('another program answers there, with another identity'),
    });
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });

    // Never dialled at that port: downloaders reach it through connect-back, which checks the identity.
    const peer = await TrackerSession.open(tracker.address, member);
    await peer.register(impostor.port, files);
    expect(peer.firewalled).toMatch(/another program answers there, with another identity/);
    expect(await tracker.store.whoHasContent(sha('1'), 10)).toEqual([expect.objectContaining({ port: impostor.port, firewalled: true })]);
    await peer.close();
    await impostor.close();
  });
});
