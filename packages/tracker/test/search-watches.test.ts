import fc from 'fast-check';
import { ALL_FEATURES, type Feature, type FileEntry, MAX_WATCHES_PER_CONNECTION, parseSearchQuery, SearchMatcher, type TrackerSession, type WatchMatch } from '@p2pservice/protocol';
import { describe, expect, it } from 'vitest';
import { SearchWatches } from '../src/server/search-watches.js';
import { sha, trackerPerTest } from './helpers.js';

/*
 * Watched searches (feature watch): a connection keeps searches on the tracker, and hears of the files
 * that match them as shares register or change, within bounds per connection, sender, identity and in all.
 */

const net = trackerPerTest();
const start = (limits?: Parameters<typeof net.start>[0]) => net.start(limits);
const session = (name: string, features?: readonly Feature[]) => net.session(name, features);

/** A watching session and every notice it heard, in order. */
async function watcher(name: string): Promise<{ session: TrackerSession; heard: WatchMatch[] }> {
  const s = await session(name);
  const heard: WatchMatch[] = [];
  s.onWatchMatch((notice) => heard.push(notice));
  return { session: s, heard };
}

const entry = (name: string, n: number, size = 1000): FileEntry => ({ name, size, sha256: n.toString(16).padStart(64, '0'), root: sha('f') });

describe('a watched search', () => {
  it('hears of each matching file a share registers or adds, never of its own or of others that do not match', async () => {
    await start();
    const fan = await watcher('fan');
    const live = await fan.session.watch({ query: 'live ext:flac' });
    const other = await fan.session.watch({ query: 'u2', minSize: 500 });
    expect([live, other]).toEqual([1, 2]);
    const band = await session('band');
    await band.register(5000, [entry('Live at the Hall.flac', 1), entry('Live at the Hall.mp3', 2), entry('studio.flac', 3), entry('U2 - One.ogg', 4), entry('U2 - Two.ogg', 5, 10)]);
    // Notices are written before the registering peer's answer: a ping after it orders them.
    await fan.session.ping();
    expect(fan.heard).toEqual([
      { type: 'watch_match', watch: live, files: [{ name: 'Live at the Hall.flac', size: 1000, sha256: entry('', 1).sha256 }], more: false },
      { type: 'watch_match', watch: other, files: [{ name: 'U2 - One.ogg', size: 1000, sha256: entry('', 4).sha256 }], more: false },
    ]);
    await band.update([entry('bootlegs/live in Rome.flac', 6)], ['studio.flac']);
    await fan.session.ping();
    expect(fan.heard.at(-1)!.files.map((f) => f.name)).toEqual(['bootlegs/live in Rome.flac']);
    // Its own share is no news to it.
    const before = fan.heard.length;
    await fan.session.register(5001, [entry('my live.flac', 7)]);
    await fan.session.ping();
    expect(fan.heard).toHaveLength(before);
  });

  it('names at most 64 files a notice, and says there were more', async () => {
    await start();
    const fan = await watcher('fan');
    await fan.session.watch({ query: 'track' });
    const band = await session('band');
    await band.register(5000, Array.from({ length: 100 }, (_, i) => entry(`track ${i}.flac`, i + 1)));
    await fan.session.ping();
    expect(fan.heard).toHaveLength(1);
    expect(fan.heard[0]!.files).toHaveLength(64);
    expect(fan.heard[0]!.more).toBe(true);
  });

  it('ends with unwatch, and with its connection', async () => {
    await start();
    const fan = await watcher('fan');
    const number = await fan.session.watch({ query: 'live' });
    expect(await fan.session.unwatch(number)).toBe(0);
    expect(await fan.session.unwatch(number)).toBe(0);
    const band = await session('band');
    await band.register(5000, [entry('live.flac', 1)]);
    await fan.session.ping();
    expect(fan.heard).toEqual([]);
    await fan.session.watch({ query: 'live' });
    fan.session.connection.destroy();
    // The watch left with the connection: the tracker keeps none.
    await expect.poll(() => net.tracker.server.watches, { timeout: 10_000 }).toBe(0);
  });

  it(`is refused with TOO_MANY_WATCHES past ${MAX_WATCHES_PER_CONNECTION} a connection, or its sender's bound; the connection goes on`, async () => {
    await start({ maxWatchesPerAddress: 40 });
    const first = await watcher('first');
    for (let i = 0; i < MAX_WATCHES_PER_CONNECTION; i++) await first.session.watch({ query: `word${i}` });
    await expect(first.session.watch({ query: 'one more' })).rejects.toMatchObject({ code: 'TOO_MANY_WATCHES', message: expect.stringContaining('this connection already watches 32') });
    const second = await watcher('second');
    for (let i = 0; i < 8; i++) await second.session.watch({ query: `other${i}` });
    await expect(second.session.watch({ query: 'one more' })).rejects.toMatchObject({ code: 'TOO_MANY_WATCHES', message: expect.stringContaining('127.0.0.1 already watches 40') });
    // The connection goes on: a search still works, and an unwatch makes room.
    expect(await second.session.unwatch(1)).toBe(7);
    expect(await second.session.watch({ query: 'fits again' })).toBe(9);
    expect(net.tracker.server.watches).toBe(40);
  });

  it('checks its query as a search does, and is asked only of a tracker that agreed to the feature', async () => {
    await start();
    const fan = await watcher('fan');
    await expect(fan.session.watch({ query: '-only' })).rejects.toMatchObject({ code: 'BAD_QUERY' });
    const older = await session('older', ALL_FEATURES.filter((f) => f !== 'watch'));
    await expect(older.watch({ query: 'live' })).rejects.toMatchObject({ code: 'UNEXPECTED_MESSAGE' });
  });
});

describe('the matching of watches', () => {
  it('finds exactly what the search matcher says, whatever is typed (fuzzed against a check of every watch)', async () => {
    const parts = ['Beat', 'les', 'Café', 'cafe', 'ＡＢ', 'ß', 'ss', 'u2', 'a', ' ', '/', '.', '-', '"', 'ext:flac', '.flac', 'x', 'é', 'e\u0301', '東京', 'の', '🎵', 'size>5'];
    const text = (max: number) => fc.array(fc.constantFrom(...parts), { minLength: 1, maxLength: max }).map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(text(6), { minLength: 1, maxLength: 20 }), fc.array(text(4), { minLength: 1, maxLength: 6 }), async (names, queries) => {
        const watches = new SearchWatches({ maxWatchesPerAddress: 100, maxWatchesPerIdentity: 100, maxWatches: 100 });
        const heard = new Map<number, string[]>();
        const matchers = new Map<number, SearchMatcher>();
        const connection = {};
        for (const query of queries) {
          let parsed;
          try {
            parsed = parseSearchQuery(query);
          } catch {
            continue;
          }
          const { watch } = watches.watch(connection, { sender: 'a', identity: '', notify: (n) => (heard.set(n.watch, n.files.map((f) => f.name)), true) }, parsed);
          matchers.set(watch, new SearchMatcher(parsed));
        }
        const files = names.map((name, i) => entry(name, i + 1, i));
        await watches.matchFiles(files, undefined);
        for (const [watch, matcher] of matchers) {
          const expected = files.filter((f) => matcher.rank(f.name, f.size) !== undefined).map((f) => f.name);
          expect(heard.get(watch) ?? []).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
