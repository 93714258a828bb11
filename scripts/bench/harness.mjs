// Shared pieces of the benchmarks: processes, timing, medians, side-by-side alternating rounds.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TRACKER_BIN = join(REPO, 'packages/tracker/bin/tracker.js');
export const PEER_BIN = join(REPO, 'packages/peer/bin/peer.js');
export const RSS_PRELOAD = join(REPO, 'scripts/bench/report-rss.cjs');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * What a tracker must allow for a bench's simulated peers, which share one identity and one address: the
 * limits per sender and the quotas per member count them as one, so without this the bench stops at 16
 * connections, or at 300 000 files.
 */
export function simulatedPeersEnv(peers) {
  const connections = String(peers + 100);
  const plenty = String(1_000_000_000);
  return {
    TRACKER_MAX_CONNECTIONS: connections,
    TRACKER_MAX_CONNECTIONS_PER_ADDRESS: connections,
    TRACKER_MAX_CONNECTIONS_PER_MEMBER: connections,
    TRACKER_MAX_FILES_PER_ADDRESS: plenty,
    TRACKER_MAX_FILES_PER_IDENTITY: plenty,
    TRACKER_MAX_NAME_BYTES_PER_MEMBER: plenty,
    TRACKER_MAX_SEARCHES_PER_MINUTE: plenty,
    TRACKER_MAX_CONNECT_REQUESTS_PER_MEMBER: plenty,
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Calls `work(i)` for i from 0 to count - 1, at most `concurrency` at a time. */
export async function forEachConcurrently(count, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Runs each contender once per round, alternating their order every round so that neither always runs
 * on a warmer (or busier) machine, and returns every contender's times in seconds.
 */
export async function sideBySide(rounds, contenders) {
  const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  const names = Object.keys(contenders);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const started = process.hrtime.bigint();
      await contenders[name](round);
      times[name].push(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
  return times;
}

/** Starts a long-running process; `waitFor` resolves with the first output line matching a pattern. */
export function startProcess(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const lines = [];
  const waiters = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const w of [...waiters]) if (w.pattern.test(line)) w.resolve(line);
    });
  }
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return {
    child,
    lines,
    exited,
    waitFor(pattern, ms = 120_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${lines.join('\n')}`)), ms);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        exited.then(({ code }) => reject(new Error(`${command} exited (${code}) before ${pattern}: ${lines.join('\n')}`)));
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a command to completion; rejects on a non-zero exit. */
export function runToEnd(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** CPU seconds (user + system) a running process has used so far. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/** Peak resident memory of a running process, in MiB (VmHWM). */
export function peakRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/** Peak RSS printed at exit by a process started with the report-rss preload. */
export function reportedRssMiB(stderr) {
  const match = /^BENCH_MAX_RSS_KB=(\d+)$/m.exec(stderr);
  return match ? Number(match[1]) / 1024 : undefined;
}

export function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

export function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);
  const nproc = spawnSync('nproc').stdout.toString().trim();
  return { cpu, nproc: Number(nproc), memoryGiB: Math.round(memKb / 1024 / 1024), node: process.version };
}
