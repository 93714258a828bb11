// Wall time of `peer list` on a small network, against starting Node itself.
import { join } from 'node:path';
import { median, PEER_BIN, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.mjs';

export async function startupBench({ root, rounds, env }) {
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'startup.db')], { env, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const { createIdentity, TrackerSession, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  // A registering peer: an identity, and a TLS listener proving it for the tracker's reachability check.
  const transport = tlsTransport({ identity: createIdentity('bench peer') });
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (s) => s.destroy());
  const session = await TrackerSession.open({ host: '127.0.0.1', port }, { transport });
  await session.register(listener.address.port, Array.from({ length: 20 }, (_, i) => ({ name: `song${i}.flac`, size: i * 1000, sha256: String(i).padStart(64, '0'), root: `f${String(i).padStart(63, '0')}` })));
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${port}` };
  const times = await sideBySide(rounds, {
    'peer list': () => runToEnd(process.execPath, [PEER_BIN, 'list'], { env: peerEnv, cwd: root }),
    'node -e 0': () => runToEnd(process.execPath, ['-e', '0'], { env, cwd: root }),
  });
  await session.close();
  await listener.close();
  await tracker.stop();
  return {
    rounds,
    medianMs: { 'peer list': median(times['peer list']) * 1000, 'node -e 0': median(times['node -e 0']) * 1000 },
  };
}
