import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ALL_FEATURES, TrackerSession } from '@p2pservice/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrackerLimits } from '../src/index.js';
import { listeningPort } from '@p2pservice/test-support/processes';
import { tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';
import { tempDir } from './helpers.js';

/* Quotas per member: one member over its quota is refused, and nobody else notices. */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
afterEach(async () => {
  await tracker.close();
  dir.remove();
});

async function start(limits: Partial<TrackerLimits>) {
  dir = tempDir();
  tracker = await startTestTracker(join(dir.path, 'quotas.db'), { limits });
}

const as = (name: string, features = ALL_FEATURES) => TrackerSession.open(tracker.address, { transport: tlsAs(name), features });
const file = (name: string) => ({ name, size: 1, sha256: createHash('sha256').update(name).digest('hex'), root: 'e'.repeat(64) });

describe('quotas per member', () => {
  it('refuse searches beyond the quota a minute with QUOTA_EXCEEDED, that search only; other members search on', async () => {
    await start({ maxSearchesPerMinute: 3 });
    const greedy = await as('greedy');
    for (let i = 0; i < 3; i++) await greedy.searchPage({ query: 'x' });
    await expect(greedy.searchPage({ query: 'x' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', said: expect.stringMatching(/this identity searched more than 3 times in 60 s \(its quota\)/) });
    // The same identity on another connection is the same member; its connection stays usable.
    const again = await as('greedy');
    await expect(again.searchPage({ query: 'x' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await greedy.ping();
    // A client that does not know the feature is told in a code it knows.
    const old = await as('greedy', ALL_FEATURES.filter((f) => f !== 'quotas'));
    await expect(old.searchPage({ query: 'x' })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const other = await as('other');
    expect((await other.searchPage({ query: 'x' })).files).toEqual([]);
    for (const s of [greedy, again, old, other]) await s.close();
  });

  it('refuse a share whose names pass the member’s bytes, over all its connections; nothing of it is listed', async () => {
    await start({ maxNameBytesPerMember: 40 });
    const listener = await listeningPort('big');
    const first = await as('big');
    await first.register(listener.port, [file('a'.repeat(20))]);
    const second = await as('big');
    await expect(second.register(listener.port, [file('b'.repeat(21))])).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', said: expect.stringMatching(/would list 41 bytes of file names, over its quota of 40/) });
    expect((await tracker.store.listPage(null, 10)).map((row) => row.name)).toEqual(['a'.repeat(20)]);
    // Once the first connection leaves, its bytes are the member's again.
    await first.close();
    const listener2 = await listeningPort('small');
    const small = await as('small');
    await small.register(listener2.port, [file('c'.repeat(40))]);
    const third = await as('big');
    await third.register(listener.port, [file('b'.repeat(40))]);
    for (const s of [small, third]) await s.close();
    await listener.close();
    await listener2.close();
  });

  it('refuse an identity more connections than its quota, from any address, and no one else', async () => {
    await start({ maxConnectionsPerMember: 2 });
    const held = [await as('many'), await as('many')];
    await expect(as('many')).rejects.toMatchObject({ said: expect.stringMatching(/this identity already has 2 connections open to this tracker \(its quota\)/) });
    const other = await as('other');
    await other.ping();
    await held[0]!.close();
    const room = await as('many');
    for (const s of [held[1]!, other, room]) await s.close();
  });
});
