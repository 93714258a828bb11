// A generated network registered into a real tracker CLI: one TrackerSession per peer over TLS, 64
// registering at a time, listen ports checked by the tracker as always. Shared by the search and ui groups.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, simulatedPeersEnv, startProcess, TRACKER_BIN } from './harness.mjs';

/** Starts a tracker on `db` and registers every share of `shares` (one peer each); `close()` ends it all. */
export async function registeredNetwork({ root, shares, env, db = join(root, 'network.db') }) {
  const protocol = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  const transport = protocol.tlsTransport({ identity: protocol.createIdentity('bench peers') });
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', db], {
    // A budget far above any query here: the benchmarks measure slow searches instead of cutting them.
    env: { ...env, ...simulatedPeersEnv(shares.length), PEER_TIMEOUT: '3600', HEARTBEAT_INTERVAL: '600', SEARCH_BUDGET: '60', LOG_LEVEL: 'info' },
    cwd: root,
  });
  const sessions = [];
  let port;
  let registerSeconds;
  try {
    port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < shares.length) {
          const files = shares[next++];
          const session = await protocol.TrackerSession.open({ host: '127.0.0.1', port }, { transport });
          await session.register(listener.address.port, files);
          sessions.push(session);
        }
      }),
    );
    registerSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  } catch (error) {
    // A failed run leaves no tracker behind to skew the next one.
    await tracker.stop();
    await listener.close();
    throw error;
  }
  return {
    protocol,
    transport,
    tracker,
    port,
    db,
    registerSeconds,
    /** A fresh client session to the tracker, for measuring requests. */
    client: () => protocol.TrackerSession.open({ host: '127.0.0.1', port }, { transport }),
    async close() {
      // The tracker is stopped first: closing thousands of sessions would have it delete every share one by one.
      await tracker.stop();
      for (const s of sessions) s.connection.destroy();
      await listener.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    },
  };
}
