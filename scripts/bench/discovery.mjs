// How long finding the tracker on the LAN adds to a command: `peer list` with no tracker set (it asks
// the LAN, DNS-SD) against `peer list --tracker ADDRESS#ID` (the address typed), side by side, inside a
// network namespace of the bench's own (its loopback carries the multicast; nothing reaches a real LAN).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { median, PEER_BIN, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';

export async function discoveryBench({ root, rounds, env }) {
  const ns = `p2p-bench-${randomBytes(3).toString('hex')}`;
  const ip = (...args) => execFileSync('ip', args, { stdio: 'pipe' });
  try {
    ip('netns', 'add', ns);
  } catch (error) {
    return { skipped: `no network namespace: ${String(error.stderr ?? error.message).trim()}` };
  }
  const inNs = (args) => ['netns', 'exec', ns, process.execPath, ...args];
  const dir = join(root, 'discovery');
  mkdirSync(dir, { recursive: true });
  const lanEnv = { ...env, TRACKER_ANNOUNCE: 'on', PEER_DISCOVER: 'on' };
  let tracker;
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up', 'multicast', 'on');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    tracker = startProcess('ip', inNs([TRACKER_BIN, 'start', '--port', '0', '--db', join(dir, 'tracker.db'), '--name', 'bench']), { env: lanEnv, cwd: dir });
    const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
    const identity = JSON.parse(await tracker.waitFor(/peers connect with/)).identity;
    await tracker.waitFor(/announced on the LAN/);
    const list = (extra) => runToEnd('ip', inNs([PEER_BIN, 'list', ...extra]), { env: lanEnv, cwd: dir });
    const times = await sideBySide(rounds, {
      'found on the LAN': () => list([]),
      'address given': () => list(['--tracker', `127.0.0.1:${port}#${identity}`]),
    });
    // With nobody announcing, the look waits its whole time before saying so.
    await tracker.stop('SIGINT');
    tracker = undefined;
    const quietStarted = process.hrtime.bigint();
    await runToEnd('ip', inNs([PEER_BIN, 'list']), { env: lanEnv, cwd: dir }).catch(() => undefined);
    const noneSeconds = Number(process.hrtime.bigint() - quietStarted) / 1e9;
    const found = median(times['found on the LAN']) * 1000;
    const given = median(times['address given']) * 1000;
    return { rounds, medianMs: { found, given }, addedMs: found - given, noneAnsweringMs: noneSeconds * 1000 };
  } finally {
    await tracker?.stop('SIGINT');
    try {
      ip('netns', 'delete', ns);
    } catch {
      // Gone already.
    }
  }
}
