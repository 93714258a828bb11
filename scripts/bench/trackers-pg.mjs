// Several trackers on one PostgreSQL (a throwaway server, fsync on, as an operator would run it): the
// generated music network of catalog.mjs registered over TLS through three trackers, against the same
// file rows inserted straight with `pg` (one multi-row INSERT per peer, 8 connections, one process) and
// against one SQLite tracker, all in this run; then list, who-has and search latency through one
// PostgreSQL tracker and through the SQLite one; then one tracker SIGKILLed: how long until its peers
// are registered elsewhere and none of its rows is left.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startThrowawayPostgres, createDatabase } from '../pg/throwaway-postgres.mjs';
import { catalog, peerShares } from './catalog.mjs';
import { forEachConcurrently, peakRssMiB, percentile, REPO, simulatedPeersEnv, sleep, startProcess, TRACKER_BIN } from './harness.mjs';

const QUERIES = { '1 word': 'midnight', '2 words': 'golden highway', 'common word': 'love', 'very common word': 'the' };
const TRACKERS = 3;
const CONCURRENT_REGISTRATIONS = 64;
const LEASE_S = 15;
const BARE_CONNECTIONS = 8;

const seconds = (since) => Number(process.hrtime.bigint() - since) / 1e9;

export async function pgTrackersBench({ root, peers, perPeer, samples, env }) {
  const protocol = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  const pg = (await import('pg')).default;
  const shares = [...peerShares({ albums: catalog(), peers, perPeer })];
  const rows = shares.reduce((sum, files) => sum + files.length, 0);
  const server = await startThrowawayPostgres({ durable: true });
  const transport = protocol.tlsTransport({ identity: protocol.createIdentity('bench peers') });
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
  const trackerEnv = {
    ...env,
    ...simulatedPeersEnv(peers),
    PEER_TIMEOUT: '3600',
    HEARTBEAT_INTERVAL: '600',
    SEARCH_BUDGET: '60',
    TRACKER_LEASE: String(LEASE_S),
    LOG_LEVEL: 'info',
  };
  const startTracker = async (db, name) => {
    const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', db], { env: trackerEnv, cwd: root });
    const listening = JSON.parse(await tracker.waitFor(/tracker listening/));
    return Object.assign(tracker, { port: listening.port, instance: listening.instance, name });
  };
  /** Registers every share through `ports` (peer i through ports[i % n]); returns the open sessions. */
  const registerAll = async (ports) => {
    const sessions = [];
    await forEachConcurrently(shares.length, CONCURRENT_REGISTRATIONS, async (i) => {
      const port = ports[i % ports.length];
      const session = await protocol.TrackerSession.open({ host: '127.0.0.1', port }, { transport });
      await session.register(listener.address.port, shares[i]);
      sessions.push({ session, i, port });
    });
    return sessions;
  };
  const latency = async (port) => {
    const client = await protocol.TrackerSession.open({ host: '127.0.0.1', port }, { transport });
    const time = async (work) => {
      const t = process.hrtime.bigint();
      await work();
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const result = { listPage: [], whoHas: [], search: {} };
    for (let i = 0; i < samples; i++) {
      const files = shares[Math.floor(Math.random() * shares.length)];
      const file = files[Math.floor(Math.random() * files.length)];
      result.listPage.push(await time(() => client.listPage({ name: file.name, sha256: file.sha256 }, 1000)));
      result.whoHas.push(await time(() => client.whoHas(file.name)));
    }
    for (const [what, query] of Object.entries(QUERIES)) {
      const times = [];
      for (let i = 0; i < Math.min(samples, 200); i++) times.push(await time(() => client.searchPage({ query })));
      result.search[what] = times;
    }
    await client.close();
    const p = (times) => ({ p50: percentile(times, 50), p99: percentile(times, 99) });
    return { listPage: p(result.listPage), whoHas: p(result.whoHas), search: Object.fromEntries(Object.entries(result.search).map(([what, t]) => [what, { query: QUERIES[what], ...p(t) }])) };
  };
  const count = async (url, sql, values = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query(sql, values)).rows[0].n);
    } finally {
      await client.end();
    }
  };

  try {
    // 1. The yardstick: the same file rows, straight into a table shaped like the tracker's `files`.
    const bareUrl = await createDatabase(server.url, 'bare');
    const bare = new pg.Pool({ connectionString: bareUrl, max: BARE_CONNECTIONS });
    await bare.query(`CREATE TABLE files (peer_id bigint NOT NULL, name text COLLATE "C" NOT NULL, size bigint NOT NULL, sha256 text COLLATE "C" NOT NULL, PRIMARY KEY (peer_id, name));
                      CREATE INDEX files_by_sha256 ON files (sha256, name);`);
    const bareStarted = process.hrtime.bigint();
    await forEachConcurrently(shares.length, BARE_CONNECTIONS, async (i) => {
      const files = shares[i];
      await bare.query('INSERT INTO files (peer_id, name, size, sha256) SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[])', [
        i,
        files.map((f) => f.name),
        files.map((f) => f.size),
        files.map((f) => f.sha256),
      ]);
    });
    const bareSeconds = seconds(bareStarted);
    await bare.end();

    // 2. The tracker's PostgreSQL store alone, in this process, as many transactions at once as the
    // yardstick: what the store's transactions cost apart from TLS and the trackers' other work.
    const { PgStore } = await import(pathToFileURL(join(REPO, 'packages/tracker/dist/index.js')).href);
    const store = await PgStore.open(await createDatabase(server.url, 'store'), { poolSize: BARE_CONNECTIONS });
    await store.membership.join(60_000);
    const storeStarted = process.hrtime.bigint();
    await forEachConcurrently(shares.length, BARE_CONNECTIONS, (i) => store.putShare(undefined, { host: '10.0.0.1', port: 1 + i, id: '' }, shares[i]));
    const storeSeconds = seconds(storeStarted);
    await store.close();

    // 3. Three trackers on one database, every peer registering over TLS, spread over them.
    const networkUrl = await createDatabase(server.url, 'network');
    const trackers = [];
    for (let t = 0; t < TRACKERS; t++) trackers.push(await startTracker(networkUrl, `pg-${t}`));
    const pgStarted = process.hrtime.bigint();
    const sessions = await registerAll(trackers.map((t) => t.port));
    const pgSeconds = seconds(pgStarted);
    const pgLatency = await latency(trackers[1].port);
    const pgRss = trackers.map((t) => peakRssMiB(t.child.pid));
    const contents = await count(networkUrl, 'SELECT count(*) AS n FROM contents');

    // 4. One tracker SIGKILLed. Its peers reconnect as real peers do (full-jitter backoff from 1 s) to the
    // next tracker; the others remove its rows once its lease lapses. The simulated peers all come from
    // 127.0.0.1, whose TLS handshakes in progress a tracker limits to 16 (real peers come from their own
    // addresses), so at most CONCURRENT_REGISTRATIONS of them connect at a time, as when they first came.
    const victim = trackers[0];
    const moving = sessions.filter((s) => s.port === victim.port);
    const killed = process.hrtime.bigint();
    victim.child.kill('SIGKILL');
    let allMoved;
    let connecting = 0;
    const moved = Promise.all(
      moving.map(async ({ i }) => {
        for (let attempt = 0; ; attempt++) {
          await sleep(Math.random() * Math.min(30_000, 1_000 * 2 ** attempt));
          while (connecting >= CONCURRENT_REGISTRATIONS) await sleep(5);
          connecting++;
          try {
            const port = trackers[1 + (i % (TRACKERS - 1))].port;
            const session = await protocol.TrackerSession.open({ host: '127.0.0.1', port }, { transport });
            await session.register(listener.address.port, shares[i]);
            sessions.push({ session, i, port });
            return;
          } catch {
            // tried again after the next backoff
          } finally {
            connecting--;
          }
        }
      }),
    ).then(() => (allMoved = seconds(killed)));
    let staleGone;
    while (staleGone === undefined) {
      if ((await count(networkUrl, 'SELECT count(*) AS n FROM peers WHERE instance = $1', [victim.instance])) === 0) staleGone = seconds(killed);
      else await sleep(100);
    }
    await moved;
    const failoverRows = await count(networkUrl, 'SELECT count(*) AS n FROM files');
    const failoverPeers = await count(networkUrl, 'SELECT count(*) AS n FROM peers');

    // What the trackers warned about meanwhile (a lost lease, an unreachable database), to be read beside the numbers.
    const warnings = trackers.flatMap((t) => t.lines.filter((line) => /"level":(40|50)/.test(line)).map((line) => `${t.name}: ${JSON.parse(line).msg}`));
    for (const t of trackers) t.child.kill('SIGKILL');
    for (const s of sessions) s.session.connection.destroy();

    // 5. The same network through one SQLite tracker, the default.
    const sqliteDb = join(root, 'trackers-sqlite.db');
    const sqlite = await startTracker(sqliteDb, 'sqlite');
    const sqliteStarted = process.hrtime.bigint();
    const sqliteSessions = await registerAll([sqlite.port]);
    const sqliteSeconds = seconds(sqliteStarted);
    const sqliteLatency = await latency(sqlite.port);
    const sqliteRss = peakRssMiB(sqlite.child.pid);
    sqlite.child.kill('SIGKILL');
    for (const s of sqliteSessions) s.session.connection.destroy();
    for (const suffix of ['', '-wal', '-shm']) rmSync(sqliteDb + suffix, { force: true });

    return {
      peers,
      filesPerPeer: perPeer,
      rows,
      distinctContents: contents,
      trackers: TRACKERS,
      leaseSeconds: LEASE_S,
      samples,
      rowsPerSecond: {
        [`bare pg (multi-row INSERT per peer, ${BARE_CONNECTIONS} connections)`]: rows / bareSeconds,
        [`PgStore in process (${BARE_CONNECTIONS} transactions at once)`]: rows / storeSeconds,
        [`${TRACKERS} trackers on PostgreSQL, over TLS`]: rows / pgSeconds,
        '1 tracker on SQLite, over TLS': rows / sqliteSeconds,
      },
      ratioToBarePg: bareSeconds / pgSeconds,
      storeRatioToBarePg: bareSeconds / storeSeconds,
      latencyMs: { postgres: pgLatency, sqlite: sqliteLatency },
      trackerWarnings: [...new Set(warnings)].slice(0, 20),
      failover: { peersMoved: moving.length, allRegisteredElsewhereSeconds: allMoved, staleRowsGoneSeconds: staleGone, fileRowsAfter: failoverRows, fileRowsExpected: rows, peersAfter: failoverPeers },
      trackerPeakRssMiB: { postgres: pgRss, sqlite: sqliteRss },
    };
  } finally {
    await listener.close();
    await server.stop();
  }
}
