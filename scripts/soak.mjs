#!/usr/bin/env node
// Chaos soak: a tracker and N sharing peers (real processes) with overlapping content, M downloads, and
// random SIGKILLs, SIGSTOP/SIGCONTs and restarts of holders, downloaders and the tracker itself. At the
// end every file at a final name must match its sha256, the list must hold no stale peer, and no process
// may be left behind. Usage: npm run soak -- [--peers N] [--downloads M] [--seconds S] [--seed X]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TRACKER_BIN = join(REPO, 'packages/tracker/bin/tracker.js');
const PEER_BIN = join(REPO, 'packages/peer/bin/peer.js');

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A small deterministic PRNG, so a failing soak can be replayed with its seed. */
function prng(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

export async function soak({ peers = 4, downloads = 300, seconds = 60, seed = Date.now() % 2 ** 31, log = () => {} } = {}) {
  const { TrackerSession, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
  // In-process downloads and listings speak TLS as the CLI does, without an identity of their own.
  const transport = tlsTransport();
  const { download } = await import(pathToFileURL(join(REPO, 'packages/peer/dist/index.js')).href);
  const { pino } = await import(pathToFileURL(join(REPO, 'node_modules/pino/pino.js')).href);
  const random = prng(seed);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const root = mkdtempSync(join(tmpdir(), 'p2p-soak-'));
  const children = new Set();
  const report = { seed, peers, downloadsPlanned: downloads, downloads: 0, succeeded: 0, failed: 0, failures: {}, cliKilled: 0, chaos: { peerKills: 0, peerFreezes: 0, trackerRestarts: 0 }, corrupt: [], stale: [], leaked: [] };

  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    XDG_CACHE_HOME: join(root, 'cache'),
    // Identities (the tracker keeps its own across its restarts) and known trackers stay in the soak's folder.
    XDG_CONFIG_HOME: join(root, 'config'),
    LOG_LEVEL: 'warn',
    // Off the LAN: no announcing, no looking.
    TRACKER_ANNOUNCE: 'off',
    PEER_DISCOVER: 'off',
    HEARTBEAT_INTERVAL: '0.3',
    PEER_TIMEOUT: '1',
    RECONNECT_BASE_DELAY: '0.1',
    RECONNECT_MAX_DELAY: '0.5',
    STALL_TIMEOUT: '1',
    PEER_HOST: '127.0.0.1',
  };
  function launch(bin, args, extraEnv = {}) {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const lines = [];
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (l) => lines.push(l));
    child.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.lines = lines;
    return child;
  }
  async function waitForLine(child, pattern, ms = 20_000) {
    const deadline = Date.now() + ms;
    while (!child.lines.some((l) => pattern.test(l))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} from ${child.spawnargs.join(' ')}: ${child.lines.join('\n')}`);
      await sleep(20);
    }
    return child.lines.find((l) => pattern.test(l));
  }

  // Content: overlapping subsets of a pool, so most files have several holders.
  const pool = Array.from({ length: 10 }, (_, i) => ({ name: i % 3 === 0 ? `nested/f${i}.bin` : `f${i}.bin`, data: randomBytes(Math.floor(1024 + random() * 6 * 1024 * 1024)) }));
  const expected = new Map(pool.map((f) => [f.name, sha256(f.data)]));

  let trackerPort = 0;
  let tracker;
  async function startTracker() {
    tracker = launch(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', String(trackerPort), '--db', join(root, 'tracker.db')], { LOG_LEVEL: 'info' });
    const line = await waitForLine(tracker, /tracker listening/);
    trackerPort = JSON.parse(line).port;
  }
  await startTracker();
  env.PEER_TRACKER = `127.0.0.1:${trackerPort}`;

  const holders = [];
  for (let p = 0; p < peers; p++) {
    const dir = join(root, `peer${p}`);
    const files = pool.filter((_, i) => (i + p) % 2 === 0 || random() < 0.3);
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true });
      writeFileSync(join(dir, f.name), f.data);
    }
    holders.push({ dir, files: files.map((f) => f.name), child: undefined, frozen: false });
  }
  async function startHolder(h) {
    h.child = launch(PEER_BIN, ['share', h.dir]);
    await waitForLine(h.child, /^sharing /);
  }
  await Promise.all(holders.map(startHolder));
  log(`soak seed ${seed}: tracker 127.0.0.1:${trackerPort}, ${peers} peers, ${pool.length} files`);

  const deadline = Date.now() + seconds * 1000;
  let chaosOn = true;
  const chaos = (async () => {
    while (chaosOn && Date.now() < deadline) {
      await sleep(100 + random() * 250);
      const roll = random();
      const h = pick(holders);
      if (roll < 0.35 && h.child && !h.frozen) {
        h.child.kill('SIGKILL');
        report.chaos.peerKills++;
        await h.child.exited;
        h.child = undefined;
        await sleep(random() * 500);
        await startHolder(h).catch((e) => log(`restart failed: ${e.message}`));
      } else if (roll < 0.7 && h.child && !h.frozen) {
        h.frozen = true;
        h.child.kill('SIGSTOP');
        report.chaos.peerFreezes++;
        await sleep(300 + random() * 1500);
        h.child.kill('SIGCONT');
        h.frozen = false;
      } else if (roll < 0.78) {
        tracker.kill('SIGKILL');
        report.chaos.trackerRestarts++;
        await tracker.exited;
        await sleep(200 + random() * 500);
        await startTracker();
      }
    }
  })();

  const logger = pino({ level: 'silent' });
  const outDirs = Array.from({ length: 6 }, (_, i) => join(root, `downloads${i}`));
  let next = 0;
  async function downloader() {
    while (next < downloads && Date.now() < deadline) {
      next++;
      // Paced, so that the chaos has time to strike while downloads are in flight.
      await sleep(random() * 100);
      report.downloads++;
      const name = pick(pool).name;
      const out = pick(outDirs);
      if (random() < 0.1) {
        // A downloader process killed at a random moment: it must leave no file at the final name.
        const get = launch(PEER_BIN, ['get', name, '--out', out, '--force']);
        await sleep(random() * 400);
        get.kill('SIGKILL');
        await get.exited;
        report.cliKilled++;
        continue;
      }
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 8_000);
      try {
        await download({ tracker: { host: '127.0.0.1', port: trackerPort }, transport, name, outDir: out, force: true, logger, signal: abort.signal, stallTimeoutMs: 1_000, busyWaitMs: 2_000 });
        report.succeeded++;
      } catch (error) {
        report.failed++;
        const reason = `${error.code ?? 'ERROR'}: ${String(error.message).split('\n')[0].replace(/\d+/g, 'N').slice(0, 90)}`;
        report.failures[reason] = (report.failures[reason] ?? 0) + 1;
      } finally {
        clearTimeout(timer);
      }
    }
  }
  await Promise.all(Array.from({ length: 4 }, downloader));
  chaosOn = false;
  await chaos;

  // Settle: everything running and thawed, then the list must converge to exactly the live shares.
  for (const h of holders) if (h.frozen) h.child.kill('SIGCONT');
  const truth = new Map();
  for (const h of holders) for (const name of h.files) truth.set(name, (truth.get(name) ?? 0) + 1);
  let list = [];
  const settleBy = Date.now() + 15_000;
  for (;;) {
    try {
      const session = await TrackerSession.open({ host: '127.0.0.1', port: trackerPort }, { transport });
      list = [];
      for await (const entry of session.list()) list.push(entry);
      await session.close();
    } catch {
      list = undefined;
    }
    const converged = list && list.length === truth.size && list.every((e) => truth.get(e.name) === e.holders && expected.get(e.name) === e.sha256);
    if (converged || Date.now() > settleBy) break;
    await sleep(100);
  }
  for (const e of list ?? []) if (truth.get(e.name) !== e.holders || expected.get(e.name) !== e.sha256) report.stale.push(`${e.name}: ${e.holders} holders listed, ${truth.get(e.name) ?? 0} live`);
  for (const name of truth.keys()) if (!(list ?? []).some((e) => e.name === name)) report.stale.push(`${name}: missing from the list`);

  // Every file at a final name matches its sha256. Parts, their sidecars and locks may remain (they are
  // resumable), and so may a lock's aside or a sidecar's temporary of a CLI killed while writing it: the
  // next download of that content into that folder removes them.
  for (const out of outDirs) {
    if (!existsSync(out)) continue;
    for (const entry of readdirSync(out)) {
      if (/\.part(\.json(\.[0-9a-f]{8}\.tmp)?|\.lock(\.\d+\.[0-9a-f]{8})?)?$/.test(entry)) continue;
      const name = pool.find((f) => f.name.split('/').pop() === entry)?.name;
      const actual = sha256(readFileSync(join(out, entry)));
      if (!name || actual !== expected.get(name)) report.corrupt.push(join(out, entry));
    }
  }

  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.race([Promise.all([...children].map((c) => c.exited)), sleep(5_000)]);
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      report.leaked.push(child.spawnargs.slice(1).join(' '));
      child.kill('SIGKILL');
    }
  }
  rmSync(root, { recursive: true, force: true });
  report.ok = report.corrupt.length === 0 && report.stale.length === 0 && report.leaked.length === 0;
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { peers: { type: 'string' }, downloads: { type: 'string' }, seconds: { type: 'string' }, seed: { type: 'string' } } });
  const report = await soak({
    peers: Number(values.peers ?? 6),
    downloads: Number(values.downloads ?? 2_000),
    seconds: Number(values.seconds ?? 600),
    ...(values.seed && { seed: Number(values.seed) }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.ok ? 0 : 1);
}

