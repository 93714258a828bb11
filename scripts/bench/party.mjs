// A LAN party: one seed whose upload is limited to RATE, and N downloaders of the same file starting
// together, each a `peer get` process of its own (its own identity). Measured against one downloader
// alone from the same seed, in the same run: with downloaders serving each other the verified pieces
// they have, everyone should be done within 1.5x that time, and the seed should send the file about once.
import { linkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeFile } from './transfer.mjs';
import { PEER_BIN, runToEnd, startProcess, TRACKER_BIN } from './harness.mjs';

export async function partyBench({ root, sizeMiB, counts, rate, env }) {
  const bytes = sizeMiB * 1024 * 1024;
  const original = join(root, 'party-original.bin');
  makeFile(original, bytes);
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'party.db')], { env, cwd: root });
  const trackerPort = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${trackerPort}` };
  const seedHome = join(root, 'party-seed');
  mkdirSync(join(seedHome, 'share'), { recursive: true });
  linkSync(original, join(seedHome, 'share', 'game.bin'));
  const seedEnv = { ...peerEnv, XDG_CONFIG_HOME: join(seedHome, 'config'), XDG_CACHE_HOME: join(seedHome, 'cache'), PEER_MAX_UPLOAD_RATE: rate };
  const seed = startProcess(process.execPath, [PEER_BIN, 'share', join(seedHome, 'share')], { env: seedEnv, cwd: seedHome });
  const seedPort = Number(/on port (\d+)/.exec(await seed.waitFor(/^sharing /, 600_000))[1]);

  /** N downloaders started together; the time each took, and what the seed sent to them. */
  const party = async (n, label) => {
    const homes = Array.from({ length: n }, (_, i) => join(root, `party-${label}-${i}`));
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      homes.map(async (home) => {
        mkdirSync(home, { recursive: true });
        const downloaderEnv = { ...peerEnv, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') };
        const { out } = await runToEnd(process.execPath, [PEER_BIN, 'get', 'game.bin', '--out', join(home, 'out'), '--json'], { env: downloaderEnv, cwd: home });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return { seconds, result: JSON.parse(out) };
      }),
    );
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    const fromSeed = results.flatMap((r) => r.result.holders).filter((h) => h.holder.endsWith(`:${seedPort}`)).reduce((sum, h) => sum + h.bytes, 0);
    const discarded = results.reduce((sum, r) => sum + r.result.discardedBytes, 0);
    const seconds = results.map((r) => r.seconds);
    return { downloaders: n, slowestSeconds: Math.max(...seconds), fastestSeconds: Math.min(...seconds), seedUploadFiles: fromSeed / bytes, discardedMiB: discarded / 1048576 };
  };

  try {
    const alone = await party(1, 'alone');
    const runs = [];
    for (const n of counts) {
      const run = await party(n, `n${n}`);
      runs.push({ ...run, ratioToAlone: run.slowestSeconds / alone.slowestSeconds });
    }
    return { sizeMiB, rate, aloneSeconds: alone.slowestSeconds, runs };
  } finally {
    await seed.stop();
    await tracker.stop();
  }
}
