// Watched searches (feature watch): what matching every registered file against 20 000 watches costs the
// tracker, against what the polling it replaces costs (each want searched for once a minute, on the same
// network), against storing those files (SqliteStore, the same chunks, same run), and against the simple
// way (every watch's matcher on every file); with the event loop's longest stall while it runs. Names
// and wants come from the search benchmark's generated network.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, peerShares } from './catalog.mjs';
import { median, REPO } from './harness.mjs';

/** `count` wants as people type them: one or two words of titles and artists, some with an extension. */
function wants(albums, count) {
  let state = 99;
  const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = (text) => text.split(/[\s()]+/).filter((w) => w.length >= 3 && !/^\d+$/.test(w));
  const queries = [];
  while (queries.length < count) {
    const album = albums[Math.floor(rand() * albums.length)];
    const pool = [...words(album.artist), ...words(album.album), ...album.tracks.flatMap((t) => words(t.title))];
    if (pool.length === 0) continue;
    const first = pool[Math.floor(rand() * pool.length)];
    const second = rand() < 0.5 ? ` ${pool[Math.floor(rand() * pool.length)]}` : '';
    queries.push(`${first}${second}${rand() < 0.2 ? ' ext:flac' : ''}`);
  }
  return queries;
}

export async function watchBench({ root, watchCount = 20_000, peers = 50, perPeer = 2_000, rounds = 3 }) {
  const dist = (path) => import(pathToFileURL(join(REPO, path)).href);
  const { SqliteStore } = await dist('packages/tracker/dist/index.js');
  const { SearchWatches } = await dist('packages/tracker/dist/server/search-watches.js');
  const { parseSearchQuery, SearchMatcher } = await dist('packages/protocol/dist/index.js');
  const albums = catalog();
  const shares = [...peerShares({ albums, peers, perPeer })];
  const files = shares.reduce((sum, s) => sum + s.length, 0);
  const queries = wants(albums, watchCount).map((q) => parseSearchQuery(q));

  const watches = new SearchWatches({ maxWatchesPerAddress: watchCount, maxWatchesPerIdentity: watchCount, maxWatches: watchCount });
  let notices = 0;
  let told = 0;
  queries.forEach((query, i) => watches.watch({ i: Math.floor(i / 32) }, { sender: `10.0.${i >> 8}.${i & 255}`, identity: '', notify: (n) => ((notices++, (told += n.files.length)), true) }, query));

  let searchMs = 0;
  const storeSeconds = [];
  const matchSeconds = [];
  const stallsMs = [];
  for (let round = 0; round < rounds; round++) {
    const file = join(root, `watch-${round}.db`);
    const store = await SqliteStore.open(file);
    let started = process.hrtime.bigint();
    for (const [i, share] of shares.entries()) await store.putShare(undefined, { host: '10.1.0.1', port: 1 + i, id: '' }, share);
    storeSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    // Polling instead: a want's search (the first 100 matches, as the wishlist asks) on this network.
    if (round === 0) {
      const sample = queries.filter((_, i) => i % Math.ceil(queries.length / 200) === 0);
      // The store's search threads do not keep a process alive (a tracker's sockets do): this does.
      const alive = setInterval(() => undefined, 1_000);
      const searchStarted = process.hrtime.bigint();
      for (const query of sample) await store.search(query, null, 100, Date.now() + 60_000);
      searchMs = Number(process.hrtime.bigint() - searchStarted) / 1e6 / sample.length;
      clearInterval(alive);
    }
    await store.close();
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });

    notices = 0;
    told = 0;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    started = process.hrtime.bigint();
    for (const share of shares) await watches.matchFiles(share, 'registrant');
    matchSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    loop.disable();
    stallsMs.push(loop.max / 1e6);
  }

  // The simple way, on a sample: every watch's matcher on each file.
  const sample = shares[0].slice(0, 20);
  const matchers = queries.map((q) => new SearchMatcher(q));
  const bruteStarted = process.hrtime.bigint();
  for (const f of sample) for (const m of matchers) m.rank(f.name, f.size);
  const bruteSecondsPerFile = Number(process.hrtime.bigint() - bruteStarted) / 1e9 / sample.length;

  const store = median(storeSeconds);
  const match = median(matchSeconds);
  return {
    files,
    watches: watchCount,
    notices,
    filesTold: told,
    storeSeconds: store,
    matchSeconds: match,
    storeFilesPerSecond: files / store,
    matchFilesPerSecond: files / match,
    matchToStore: match / store,
    bruteFilesPerSecond: 1 / bruteSecondsPerFile,
    maxStallMs: Math.max(...stallsMs),
    searchMs,
    // Polling every want once a minute: seconds of tracker time a minute.
    pollingSecondsPerMinute: (watchCount * searchMs) / 1000,
    // Files registered a minute at which matching them costs the tracker as much as that polling.
    breakEvenFilesPerMinute: ((watchCount * searchMs) / 1000) * (files / match),
  };
}
