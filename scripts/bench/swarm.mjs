// A download from several holders at once, each with a slow uplink (PEER_MAX_UPLOAD_RATE): from one of
// them, from four, and from four of which one lies on every piece it sends.
import { linkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeFile } from './transfer.mjs';
import { median, PEER_BIN, REPO, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';

const HOLDERS = 4;
const RATE = '50M';
const RATE_BYTES = 50_000_000;

export async function swarmBench({ root, sizeMiB, rounds, env }) {
  const bytes = sizeMiB * 1024 * 1024;
  const original = join(root, 'swarm-original.bin');
  makeFile(original, bytes);
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'swarm.db')], { env, cwd: root });
  const trackerPort = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${trackerPort}` };
  // Each holder is its own peer (identity, cache) sharing a hard link to the same bytes.
  const startHolder = async (i) => {
    const home = join(root, `swarm-holder-${i}`);
    mkdirSync(join(home, 'share'), { recursive: true });
    rmSync(join(home, 'share', 'movie.bin'), { force: true });
    linkSync(original, join(home, 'share', 'movie.bin'));
    const holderEnv = { ...peerEnv, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), PEER_MAX_UPLOAD_RATE: RATE };
    const holder = startProcess(process.execPath, [PEER_BIN, 'share', join(home, 'share')], { env: holderEnv, cwd: home });
    await holder.waitFor(/^sharing /, 600_000);
    return holder;
  };
  const holders = [];
  for (let i = 0; i < HOLDERS; i++) holders.push(await startHolder(i));

  const out = join(root, 'swarm-out');
  const get = async (sources) => {
    rmSync(out, { recursive: true, force: true });
    const { out: json } = await runToEnd(process.execPath, [PEER_BIN, 'get', 'movie.bin', '--out', out, '--json'], { env: { ...peerEnv, PEER_MAX_SOURCES: String(sources) }, cwd: root });
    return JSON.parse(json);
  };
  const honest = [];
  const times = await sideBySide(rounds, {
    [`one holder at ${RATE}B/s`]: () => get(1),
    [`${HOLDERS} holders at ${RATE}B/s each`]: async () => honest.push(await get(HOLDERS)),
  });
  const lastResult = honest.at(-1);

  // One of the four replaced by a holder that lies on every piece (and is not rate-limited, so that it
  // gets all the work it can before it is caught).
  await holders.pop().stop();
  const liar = startProcess(process.execPath, [join(REPO, 'scripts/bench/lying-holder.mjs'), String(trackerPort), 'movie.bin', original], { env, cwd: root });
  const liarPort = Number((await liar.waitFor(/^ready /, 600_000)).split(' ')[1]);
  const liarTimes = [];
  const liarResults = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    liarResults.push(await get(HOLDERS));
    liarTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  const stopped = liar.stop();
  const liarSent = Number((await liar.waitFor(/^sent /)).split(' ')[1]);
  await stopped;
  for (const p of [...holders, tracker]) await p.stop();
  rmSync(out, { recursive: true, force: true });
  rmSync(original, { force: true });
  for (let i = 0; i < HOLDERS; i++) rmSync(join(root, `swarm-holder-${i}`), { recursive: true, force: true });

  const mbps = (seconds) => bytes / seconds / 1e6;
  const one = median(times[`one holder at ${RATE}B/s`]);
  const four = median(times[`${HOLDERS} holders at ${RATE}B/s each`]);
  const liarLabel = `127.0.0.1:${liarPort}`;
  return {
    sizeMiB,
    rounds,
    uploadRateMBps: RATE_BYTES / 1e6,
    secondsPerRound: { ...times, 'with one liar among the four': liarTimes },
    mbPerSecond: { one: mbps(one), four: mbps(four), withLiar: mbps(median(liarTimes)) },
    speedup: one / four,
    holdersUsed: lastResult.holders,
    liar: {
      completedEveryRound: liarResults.every((r) => r.sha256 === lastResult.sha256),
      namedEveryRound: liarResults.every((r) => r.failed.some((f) => f.holder === liarLabel && f.lied)),
      reasons: [...new Set(liarResults.flatMap((r) => r.failed.filter((f) => f.holder === liarLabel).map((f) => f.reason)))],
      bytesItSentPerRound: liarSent / rounds,
      discardedBytesPerRound: median(liarResults.map((r) => r.discardedBytes)),
      discardedBytesWithoutLiar: median(honest.map((r) => r.discardedBytes)),
      pieceBytes: 256 * 1024 * Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, bytes / (256 * 1024) / 8192)))),
    },
  };
}
