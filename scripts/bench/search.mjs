// Search on a generated network of realistic names (catalog.mjs): what the index costs registration and
// disk, against the same transactions without it (bare better-sqlite3, the tracker's schema before
// search); then the whole network registered over sockets, and search latency end to end, against a full
// scan with LIKE '%word%'.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, peerShares } from './catalog.mjs';
import { median, peakRssMiB, percentile, REPO, sideBySide } from './harness.mjs';
import { registeredNetwork } from './network.mjs';

export const QUERIES = {
  '1 word': 'midnight',
  '2 words': 'golden highway',
  '3 words': 'the blue river',
  'common word': 'love',
  'rare word': 'smörgåsbord kraków',
  '3-char substring': 'ght',
  'very common word': 'the',
};

const fileSize = (file) => ['', '-wal'].reduce((sum, suffix) => sum + (statSync(file + suffix, { throwIfNoEntry: false })?.size ?? 0), 0) / 2 ** 20;

export async function searchBench({ root, peers, perPeer, rounds, samples, env }) {
  const { SqliteStore } = await import(pathToFileURL(join(REPO, 'packages/tracker/dist/index.js')).href);
  const Database = (await import(pathToFileURL(join(REPO, 'node_modules/better-sqlite3/lib/index.js')).href)).default;
  const shares = [...peerShares({ albums: catalog(), peers, perPeer })];
  const rows = shares.reduce((sum, files) => sum + files.length, 0);
  const distinct = new Set(shares.flatMap((files) => files.map((f) => `${f.name}\n${f.sha256}`))).size;
  const sizes = {};
  const holder = (i) => ({ host: '10.0.0.1', port: 1 + (i % 60000), id: '' });

  // Store level: the registration transactions with and without the search index, same data, same run.
  const times = await sideBySide(rounds, {
    'without index (bare better-sqlite3)': async (round) => {
      const file = join(root, `bare-${round}.db`);
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE peers (id INTEGER PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL, connected_at INTEGER NOT NULL, instance TEXT NOT NULL, identity TEXT NOT NULL);
               CREATE TABLE files (peer_id INTEGER NOT NULL REFERENCES peers(id) ON DELETE CASCADE, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (peer_id, name)) WITHOUT ROWID;
               CREATE INDEX files_by_name ON files(name, sha256); CREATE INDEX files_by_sha256 ON files(sha256); CREATE INDEX peers_by_instance ON peers(instance);`);
      const peer = db.prepare("INSERT INTO peers (instance, host, port, identity, connected_at) VALUES ('default', ?, ?, '', ?) RETURNING id");
      const insert = db.prepare('INSERT INTO files (peer_id, name, size, sha256) VALUES (?, ?, ?, ?)');
      const share = db.transaction((i, files) => {
        const { id } = peer.get(holder(i).host, holder(i).port, Date.now());
        for (const f of files) insert.run(id, f.name, f.size, f.sha256);
      });
      const started = process.hrtime.bigint();
      shares.forEach((files, i) => share(i, files));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      sizes.withoutIndexMiB = fileSize(file);
      rmSync(file, { force: true });
      return seconds;
    },
    'with index (SqliteStore)': async (round) => {
      const file = join(root, `store-${round}.db`);
      const store = await SqliteStore.open(file);
      const started = process.hrtime.bigint();
      for (const [i, files] of shares.entries()) await store.putShare(undefined, holder(i), files);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await store.close();
      const db = new Database(file);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      sizes.withIndexMiB = fileSize(file);
      rmSync(file, { force: true });
      return seconds;
    },
  });

  // End to end: the tracker CLI, every peer registering over TLS, then searches over a socket.
  const network = await registeredNetwork({ root, shares, env, db: join(root, 'search-e2e.db') });
  const { db, tracker, registerSeconds } = network;

  const client = await network.client();
  const latency = {};
  const matches = {};
  for (const [what, query] of Object.entries(QUERIES)) {
    const times = [];
    for (let i = 0; i < samples; i++) {
      const t = process.hrtime.bigint();
      await client.searchPage({ query });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    latency[what] = { query, p50: percentile(times, 50), p99: percentile(times, 99) };
  }
  await client.close();
  const trackerRss = peakRssMiB(tracker.child.pid);

  // The yardstick: a full scan of the same database for each word (read-only, beside the tracker).
  const scan = new Database(db, { readonly: true });
  const like = scan.prepare("SELECT name, sha256, size FROM files WHERE name LIKE ? ESCAPE '\\'");
  const contains = scan.prepare('SELECT COUNT(*) AS n FROM contents WHERE name LIKE ?');
  const scanMs = {};
  for (const [what, query] of Object.entries(QUERIES)) {
    const words = query.split(' ');
    const times = [];
    for (let i = 0; i < Math.min(samples, 20); i++) {
      const t = process.hrtime.bigint();
      like.all(`%${words[0]}%`);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    scanMs[what] = median(times);
    matches[what] = contains.get(`%${words[0]}%`).n;
  }
  scan.close();

  await network.close();

  return {
    peers,
    filesPerPeer: perPeer,
    rows,
    distinctContents: distinct,
    rounds,
    samples,
    rowsPerSecond: {
      'without index (bare better-sqlite3)': rows / median(times['without index (bare better-sqlite3)']),
      'with index (SqliteStore)': rows / median(times['with index (SqliteStore)']),
      'tracker over sockets, with index': rows / registerSeconds,
    },
    ratioWithIndex: median(times['without index (bare better-sqlite3)']) / median(times['with index (SqliteStore)']),
    databaseMiB: sizes,
    searchMs: latency,
    firstWordMatches: matches,
    likeScanMs: scanMs,
    trackerPeakRssMiB: trackerRss,
  };
}
