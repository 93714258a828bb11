// First share of a folder of mixed file sizes against sha256sum, and re-sharing 100 000 unchanged files.
import { randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, PEER_BIN, REPO, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';

export function makeMixed(dir, totalMiB) {
  // Half the bytes in one big file, a quarter in 16 medium ones, the rest in 1 MiB and 64 KiB files.
  const plan = [
    [1, (totalMiB / 2) * 1024 * 1024],
    [16, ((totalMiB / 4) * 1024 * 1024) / 16],
    [Math.floor(totalMiB / 8), 1024 * 1024],
    [Math.floor((totalMiB / 8) * 16), 64 * 1024],
  ];
  let n = 0;
  for (const [count, size] of plan) {
    for (let i = 0; i < count; i++) {
      const folder = join(dir, `d${n % 20}`);
      mkdirSync(folder, { recursive: true });
      const data = Buffer.allocUnsafe(size);
      randomFillSync(data);
      writeFileSync(join(folder, `f${n++}.bin`), data);
    }
  }
  return n;
}

async function shareOnce(folder, env, cwd) {
  const peer = startProcess(process.execPath, [PEER_BIN, 'share', folder], { env, cwd });
  await peer.waitFor(/^sharing /, 600_000);
  await peer.stop();
}

export async function indexingBench({ root, sizeMiB, manyFiles, rounds, env }) {
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'indexing.db')], { env, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${port}` };

  const mixed = join(root, 'mixed');
  const files = makeMixed(mixed, sizeMiB);
  const times = await sideBySide(rounds, {
    // A fresh, empty hash cache each round: every byte is read and hashed.
    'peer share (cold)': (round) => shareOnce(mixed, { ...peerEnv, XDG_CACHE_HOME: join(root, `cold-cache-${round}`) }, root),
    sha256sum: () => runToEnd('sh', ['-c', `find "${mixed}" -type f -print0 | xargs -0 sha256sum > /dev/null`]),
    // Indexing as it was before piece trees (SHA-256 only), so the cost of the trees shows in one run.
    'sha256 only, as indexing was': () => runToEnd(process.execPath, [join(REPO, 'scripts/bench/sha-only-index.mjs'), mixed], { env, cwd: root }),
  });
  rmSync(mixed, { recursive: true, force: true });

  const many = join(root, 'many');
  for (let i = 0; i < manyFiles; i++) {
    const folder = join(many, `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.txt`), String(i));
  }
  const warmEnv = { ...peerEnv, XDG_CACHE_HOME: join(root, 'warm-cache') };
  await shareOnce(many, warmEnv, root); // fills the cache
  // Timed from the start of the process until the share is registered ("sharing …"), as a user waits.
  const warm = { 'peer share (warm cache)': [] };
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    const peer = startProcess(process.execPath, [PEER_BIN, 'share', many], { env: warmEnv, cwd: root });
    await peer.waitFor(/^sharing /, 600_000);
    warm['peer share (warm cache)'].push(Number(process.hrtime.bigint() - started) / 1e9);
    await peer.stop();
  }
  rmSync(many, { recursive: true, force: true });
  await tracker.stop();

  const mibps = (t) => sizeMiB / median(t);
  return {
    sizeMiB,
    files,
    rounds,
    mibPerSecond: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mibps(v)])),
    ratioToSha256sum: mibps(times['peer share (cold)']) / mibps(times.sha256sum),
    ratioToShaOnly: mibps(times['peer share (cold)']) / mibps(times['sha256 only, as indexing was']),
    warmReshare: { files: manyFiles, medianSeconds: median(warm['peer share (warm cache)']) },
  };
}
