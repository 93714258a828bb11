// Many peers registering over real sockets against bare better-sqlite3 inserts; list and who-has latency
// with the network full; the tracker's memory.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuSeconds, median, peakRssMiB, percentile, REPO, sideBySide, simulatedPeersEnv, startProcess, TRACKER_BIN } from './harness.mjs';

const hex = (n) => n.toString(16).padStart(64, '0');
const filesOf = (peer, perPeer) => Array.from({ length: perPeer }, (_, i) => ({ name: `peer${peer}/folder${i % 10}/file${i}.bin`, size: peer * 1000 + i, sha256: hex(peer * 1000 + i), root: `f${hex(peer * 1000 + i).slice(1)}` }));

export async function trackerScaleBench({ root, peers, perPeer, rounds, samples, env }) {
  const { createIdentity, TrackerSession, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  const Database = (await import(pathToFileURL(join(REPO, 'node_modules/better-sqlite3/lib/index.js')).href)).default;
  // The simulated peers share one identity, proved at one listen port for the tracker's reachability check.
  const transport = tlsTransport({ identity: createIdentity('bench peers') });
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
  const listenPort = listener.address.port;
  const trackerEnv = { ...env, ...simulatedPeersEnv(peers), PEER_TIMEOUT: '3600', HEARTBEAT_INTERVAL: '600', LOG_LEVEL: 'warn' };
  let tracker;
  let sessions = [];
  let latency;
  const trackerCpu = [];

  const times = await sideBySide(rounds, {
    'tracker over sockets': async (round) => {
      for (const s of sessions) s.connection.destroy();
      await tracker?.stop();
      const db = join(root, `scale-${round}.db`);
      tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', db], { env: { ...trackerEnv, LOG_LEVEL: 'info' }, cwd: root });
      const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
      sessions = [];
      let next = 0;
      const cpuBefore = cpuSeconds(tracker.child.pid);
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < peers) {
            const peer = next++;
            const session = await TrackerSession.open({ host: '127.0.0.1', port }, { transport });
            await session.register(listenPort, filesOf(peer, perPeer));
            sessions.push(session);
          }
        }),
      );
      // What the tracker itself spent per joining peer (TLS handshake, the reachability check's
      // handshake, validation, the share's transaction), apart from the simulated peers' own work.
      trackerCpu.push((cpuSeconds(tracker.child.pid) - cpuBefore) / peers);
      return Number(process.hrtime.bigint() - started) / 1e9;
    },
    'bare better-sqlite3': async (round) => {
      const file = join(root, `bare-${round}.db`);
      rmSync(file, { force: true });
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE files (peer_id INTEGER NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (peer_id, name)) WITHOUT ROWID;
               CREATE INDEX files_by_name ON files(name, sha256); CREATE INDEX files_by_sha256 ON files(sha256);`);
      const insert = db.prepare('INSERT INTO files (peer_id, name, size, sha256) VALUES (?, ?, ?, ?)');
      const share = db.transaction((peer, files) => {
        for (const f of files) insert.run(peer, f.name, f.size, f.sha256);
      });
      for (let peer = 0; peer < peers; peer++) share(peer, filesOf(peer, perPeer));
      db.close();
    },
  });

  // Latency with everything registered (the last tracker round is still up, with all its sessions).
  const port = JSON.parse(tracker.lines.find((l) => /tracker listening/.test(l))).port;
  const client = await TrackerSession.open({ host: '127.0.0.1', port }, { transport });
  const page = [];
  const who = [];
  for (let i = 0; i < samples; i++) {
    const peer = Math.floor(Math.random() * peers);
    const file = Math.floor(Math.random() * perPeer);
    let t = process.hrtime.bigint();
    await client.listPage({ name: `peer${peer}/folder${file % 10}/file${file}.bin`, sha256: hex(peer * 1000 + file) }, 1000);
    page.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    await client.whoHas(`peer${peer}/folder${file % 10}/file${file}.bin`);
    who.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await client.close();
  const trackerRss = peakRssMiB(tracker.child.pid);
  for (const s of sessions) s.connection.destroy();
  await tracker.stop();
  await listener.close();
  for (let round = 0; round < rounds; round++) for (const f of [`scale-${round}.db`, `bare-${round}.db`]) for (const s of ['', '-wal', '-shm']) rmSync(join(root, f + s), { force: true });

  const rows = peers * perPeer;
  return {
    peers,
    filesPerPeer: perPeer,
    rows,
    rounds,
    rowsPerSecond: { 'tracker over sockets': rows / median(times['tracker over sockets']), 'bare better-sqlite3': rows / median(times['bare better-sqlite3']) },
    ratioToBareInserts: median(times['bare better-sqlite3']) / median(times['tracker over sockets']),
    listPageMs: { p50: percentile(page, 50), p99: percentile(page, 99) },
    whoHasMs: { p50: percentile(who, 50), p99: percentile(who, 99) },
    trackerPeakRssMiB: trackerRss,
    trackerCpuMsPerPeer: median(trackerCpu) * 1000,
  };
}

