import { ALL_FEATURES, type Feature, RemoteError, TrackerSession } from '@p2pservice/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { anonymousTls, testIdentity } from '@p2pservice/test-support/tls';
import { eventually } from '@p2pservice/test-support/wait';
import { sha, trackerPerTest } from './helpers.js';

/*
 * Partial holders at the tracker (feature `partial`): a downloader's offer is listed after the complete
 * holders, to clients that know the feature and never to itself; it leaves with a withdraw or with its
 * connection; and every offer counts against its connection, its sender and its identity.
 */

const net = trackerPerTest();
const session = (name: string, features?: readonly Feature[]) => net.session(name, features);

beforeEach(async () => {
  await net.start({ maxOffersPerConnection: 2, maxOffersPerAddress: 3, maxOffersPerIdentity: 10 });
});

const content = { sha256: sha('a'), size: 1_000_000, root: sha('b') };

describe('partial holders', () => {
  it('are listed after the complete holders, marked partial, to clients with the feature, never to themselves', async () => {
    const seed = await session('seed');
    await seed.register(5000, [{ name: 'game.bin', ...content }]);
    const downloader = await session('downloader');
    expect(await downloader.offer(6000, content)).toEqual({ count: 1 });

    const other = await session('other');
    const holders = await other.whoHasContent(content.sha256);
    expect(holders).toEqual([
      { host: '127.0.0.1', port: 5000, id: testIdentity('seed').id, root: content.root },
      { host: '127.0.0.1', port: 6000, id: testIdentity('downloader').id, root: content.root, partial: true },
    ]);
    expect((await other.whoHas('game.bin'))[0]!.holders.map((h) => h.port)).toEqual([5000, 6000]);
    // The offerer itself is not told about itself.
    expect((await downloader.whoHasContent(content.sha256)).map((h) => h.port)).toEqual([5000]);
    // A client that does not know the feature sees the complete holders only.
    const older = await session('older', ALL_FEATURES.filter((f) => f !== 'partial'));
    expect((await older.whoHas('game.bin'))[0]!.holders.map((h) => h.port)).toEqual([5000]);
  });

  it('leave with a withdraw, and with their connection', async () => {
    const other = await session('other');
    const downloader = await session('downloader');
    await downloader.offer(6000, content);
    expect(await downloader.withdraw(content.sha256)).toBe(0);
    expect(await other.whoHasContent(content.sha256)).toEqual([]);
    await downloader.offer(6000, content);
    expect(await other.whoHasContent(content.sha256)).toHaveLength(1);
    downloader.connection.destroy();
    await eventually(async () => (await other.whoHasContent(content.sha256)).length === 0);
  });

  it('are bounded per connection and per sender with TOO_MANY_OFFERS, and the connection stays', async () => {
    const first = await session('first');
    await first.offer(6000, { ...content, sha256: sha('1') });
    await first.offer(6000, { ...content, sha256: sha('2') });
    // The same content again replaces the offer: it costs nothing more.
    expect(await first.offer(6000, { ...content, sha256: sha('2') })).toEqual({ count: 2 });
    const perConnection = await first.offer(6000, { ...content, sha256: sha('3') }).catch((e: unknown) => e);
    expect(perConnection).toBeInstanceOf(RemoteError);
    expect(perConnection).toMatchObject({ code: 'TOO_MANY_OFFERS' });
    expect((perConnection as RemoteError).said).toMatch(/this connection already offers 2 contents/);
    await first.ping();

    const second = await session('second');
    await second.offer(6001, { ...content, sha256: sha('4') });
    // Both connections come from 127.0.0.1: the sender's bound is 3.
    await expect(second.offer(6001, { ...content, sha256: sha('5') })).rejects.toMatchObject({ code: 'TOO_MANY_OFFERS' });
    // A withdrawn offer frees its place.
    await first.withdraw(sha('1'));
    expect(await second.offer(6001, { ...content, sha256: sha('5') })).toEqual({ count: 2 });
  });

  it('needs an identity to be listed under', async () => {
    const anonymous = await TrackerSession.open(net.tracker.address, { transport: anonymousTls });
    try {
      await expect(anonymous.offer(6000, content)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    } finally {
      anonymous.connection.destroy();
    }
  });
});
