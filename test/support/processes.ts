import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** Helpers for end-to-end tests: the built CLIs as child processes, real temp folders. */

export const REPO = resolve(import.meta.dirname, '../..');
export const TRACKER_BIN = join(REPO, 'packages/tracker/bin/tracker.js');
export const PEER_BIN = join(REPO, 'packages/peer/bin/peer.js');

export function tempDir(prefix = 'p2p-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** A clean environment: no settings leak in from the developer's shell or a .env. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // The hash cache and the numbered results go to scratch folders, not the developer's ~/.cache, ~/.local/state.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    XDG_CACHE_HOME: join(tmpdir(), 'p2pservice-test-cache'),
    XDG_STATE_HOME: join(tmpdir(), 'p2pservice-test-state'),
    // Nothing a test starts sends multicast on this machine's real network: only the discovery tests,
    // inside network namespaces of their own, turn these on.
    TRACKER_ANNOUNCE: 'off',
    PEER_DISCOVER: 'off',
  };
  return { ...env, ...extra };
}

/**
 * The environment a child process of the tests gets: its identities and known trackers live in a config
 * folder of its working folder's own (outside it, so tests that list a folder see only their files), so
 * that nothing is shared between tests, and a tracker restarted in the same folder keeps its identity.
 */
export function forChild(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  if (env.XDG_CONFIG_HOME) return env;
  return { ...env, XDG_CONFIG_HOME: join(tmpdir(), 'p2pservice-test-config', createHash('sha256').update(resolve(cwd)).digest('hex').slice(0, 16)) };
}

export interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first line (of stdout or stderr) matching `pattern`; rejects on exit or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Kills whatever a test left running (call from afterEach/afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  running.clear();
}

/** How a program is started: with this Node.js, inside a network namespace when one is named (netns.ts). */
function command(bin: string, args: string[], netns: string | undefined): [string, string[]] {
  return netns === undefined ? [process.execPath, [bin, ...args]] : ['ip', ['netns', 'exec', netns, process.execPath, bin, ...args]];
}

export function start(bin: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; netns?: string }): Running {
  const child = spawn(...command(bin, args, options.netns), { cwd: options.cwd, env: forChild(options.env ?? cleanEnv(), options.cwd), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const [stream, lines] of [[child.stdout!, stdout], [child.stderr!, stderr]] as const) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const listener of listeners) listener(line);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout,
    stderr,
    exited,
    waitFor(pattern, ms = 15_000) {
      const seen = [...stdout, ...stderr].find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; stderr: ${stderr.join('\n')}`)), ms);
        const listener = (line: string) => pattern.test(line) && done(undefined, line);
        const done = (error?: Error, line?: string) => {
          clearTimeout(timer);
          listeners.delete(listener);
          if (error) reject(error);
          else resolve(line!);
        };
        listeners.add(listener);
        void exited.then(({ code }) => done(new Error(`exited (${code}) before ${pattern}; stderr: ${stderr.join('\n')}`)));
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a CLI to completion and returns its exit code and output. */
export async function run(
  bin: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; netns?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(...command(bin, args, options.netns), { cwd: options.cwd, env: forChild(options.env ?? cleanEnv(), options.cwd), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  running.delete(child);
  return { code, stdout, stderr };
}

/**
 * Starts `tracker start` on a random loopback port; resolves once it listens. `address` is HOST:PORT,
 * `pinned` the same with the tracker's identity (HOST:PORT#ID).
 */
export async function startTrackerCli(cwd: string, extraArgs: string[] = [], env = cleanEnv()): Promise<Running & { port: number; address: string; identity: string; pinned: string }> {
  const tracker = start(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', '0', ...extraArgs], { cwd, env });
  const port = (JSON.parse(await tracker.waitFor(/tracker listening/)) as { port: number }).port;
  const identity = (JSON.parse(await tracker.waitFor(/peers connect with/)) as { identity: string }).identity;
  return Object.assign(tracker, { port, address: `127.0.0.1:${port}`, identity, pinned: `127.0.0.1:${port}#${identity}` });
}

/** The KEY=value pairs of the repository's `.env.example`. */
export function envExample(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(REPO, '.env.example'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/**
 * A port where the test identity `name` answers in TLS (then drops the connection): what the tracker's
 * reachability check must find before it lists a registration made as that identity.
 */
export async function listeningPort(name = 'peer'): Promise<{ port: number; close(): Promise<void> }> {
  const { tlsAs } = await import('./tls.js');
  const listener = await tlsAs(name).listen({ host: '127.0.0.1', port: 0 }, (socket) => socket.destroy());
  return { port: listener.address.port, close: () => listener.close() };
}
