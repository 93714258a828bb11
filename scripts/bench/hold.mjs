// One big share against everyone else: a peer registers 100 000 files, registers them again with half
// changed, and leaves, while another peer pings the tracker and a crowd of sharing peers stay connected.
// What the others wait (ping latency) and whether anyone is dropped; against it, how long one synchronous
// transaction of the same rows takes in bare better-sqlite3 (what a ping waited before: nothing else ran).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, peerShares } from './catalog.mjs';
import { percentile, REPO, simulatedPeersEnv, startProcess, TRACKER_BIN } from './harness.mjs';

const IDLE_PEERS = 50;

export async function holdBench({ root, files, env }) {
  const results = {};
  for (const long of [false, true]) results[long ? 'longNames' : 'typicalNames'] = await oneRun({ root, files, long, env });
  results.bareOneTransactionSeconds = await bareOneTransaction(root, files);
  return { files, idlePeers: IDLE_PEERS, ...results };
}

async function oneRun({ root, files, long, env }) {
  const { createIdentity, TrackerSession, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  const db = join(root, `hold-${long ? 'long' : 'typical'}.db`);
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', db], { env: { ...env, ...simulatedPeersEnv(60), LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const address = { host: '127.0.0.1', port };
  try {
    // A crowd of sharing peers (firewalled: they name a port nobody serves), each with a small share.
    const transport = tlsTransport({ identity: createIdentity('hold peers') });
    const crowd = [];
    for (let i = 0; i < IDLE_PEERS; i++) {
      const session = await TrackerSession.open(address, { transport });
      await session.register(9, [{ name: `crowd/${i}.txt`, size: 1, sha256: i.toString(16).padStart(64, '0'), root: 'e'.repeat(64) }]);
      crowd.push(session);
    }
    let dropped = 0;
    let closing = false;
    for (const session of crowd) session.connection.whenClosed.then(() => !closing && dropped++);
    // Heartbeats, as sharing peers send them (the tracker drops a peer silent for 45 s).
    const heartbeat = setInterval(() => crowd.slice(1).forEach((session) => session.ping(60_000).catch(() => undefined)), 5_000);
    const pinger = crowd[0];
    const latencies = [];
    let pinging = true;
    const pings = (async () => {
      while (pinging) {
        const sent = performance.now();
        await pinger.ping(60_000);
        latencies.push(performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const sharer = startProcess(process.execPath, [join(REPO, 'scripts/bench/big-sharer.mjs'), String(port), String(files), long ? '1' : '0'], { env, cwd: root });
    const phases = {};
    for (const phase of ['registered', 'replaced', 'closed']) {
      const line = JSON.parse(await sharer.waitFor(new RegExp(`"phase":"${phase}"`), 900_000));
      phases[phase] = line;
    }
    // Gone: its files leave the list, in slices, after its connection closed.
    const leaving = performance.now();
    while ((await pinger.whoHas(phases.closed.sample)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const leftSeconds = (performance.now() - leaving) / 1000;
    pinging = false;
    await pings;
    clearInterval(heartbeat);
    const leaseLost = tracker.lines.some((l) => l.includes('stops serving'));
    closing = true;
    for (const session of crowd) await session.close().catch(() => undefined);
    return {
      nameBytes: phases.registered.nameBytes,
      registerSeconds: phases.registered.seconds,
      replaceSeconds: phases.replaced.seconds,
      leaveSeconds: leftSeconds,
      pingMs: { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      dropped,
      leaseLost,
    };
  } finally {
    await tracker.stop();
  }
}

/** The same rows (files and their search index) in one synchronous transaction of bare better-sqlite3. */
async function bareOneTransaction(root, files) {
  const Database = (await import(pathToFileURL(join(REPO, 'node_modules/better-sqlite3/lib/index.js')).href)).default;
  const [share] = peerShares({ albums: catalog({ artists: 3_000 }), peers: 1, perPeer: files, seed: 99 });
  const file = join(root, 'hold-bare.db');
  rmSync(file, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE files (peer_id INTEGER NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, root TEXT NOT NULL, PRIMARY KEY (peer_id, name)) WITHOUT ROWID;
           CREATE INDEX files_by_content ON files(sha256, name);
           CREATE VIRTUAL TABLE search_index USING fts5(text, tokenize = 'trigram case_sensitive 1', content = '', detail = none);`);
  const insert = db.prepare('INSERT INTO files (peer_id, name, size, sha256, root) VALUES (1, ?, ?, ?, ?)');
  const index = db.prepare('INSERT INTO search_index (rowid, text) VALUES (?, ?)');
  const started = performance.now();
  db.transaction(() => share.forEach((f, i) => (insert.run(f.name, f.size, f.sha256, f.root), index.run(i + 1, f.name.toLowerCase()))))();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return seconds;
}
