#!/usr/bin/env node
// npm run test:packaging (and .ci/run, after npm test): the packages as people install them.
// Packs them (npm pack), installs the tarballs into empty prefixes with only the npm registry — the
// peer alone, then everything — and runs the installed `tracker` and `peer` from a folder outside the
// repository: tracker start, peer share, peer list --json, peer get (bytes checked), peer ui (its page
// served). A file the programs need but a package's `files` leaves out fails here.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'p2p-packaging-'));
const say = (line) => process.stderr.write(`packaging: ${line}\n`);
const children = new Set();

function fail(message) {
  throw new Error(message);
}

/** Runs a command to completion; fails with its output when it exits non-zero. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Starts a long-running installed command; `waitFor` resolves with the first line matching a pattern. */
function start(command, args, options) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  const lines = [];
  const waiters = new Set();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters) if (w.pattern.test(line)) w.resolve(line);
    });
  }
  child.once('exit', () => children.delete(child));
  return {
    waitFor: (pattern, ms = 30_000) =>
      new Promise((resolveLine, reject) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen) return resolveLine(seen);
        const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')}: no line matching ${pattern} in ${ms} ms:\n${lines.join('\n')}`)), ms);
        waiters.add({ pattern, resolve: (line) => (clearTimeout(timer), resolveLine(line)) });
        child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited ${code} before ${pattern}:\n${lines.join('\n')}`)));
      }),
  };
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true }).map(String);
}

try {
  say('packing the packages');
  const tarballs = join(root, 'tarballs');
  mkdirSync(tarballs);
  run('npm', ['pack', '--workspaces', '--pack-destination', tarballs], { cwd: REPO });
  const tgz = (name) => join(tarballs, readdirSync(tarballs).find((f) => f.startsWith(`p2pservice-${name}-`)) ?? fail(`no tarball of ${name}`));

  // The protocol alone, as a tool built on it installs it: none of the commands' helpers come with it.
  say('installing the protocol alone');
  const protocolOnly = join(root, 'protocol-only');
  run('npm', ['install', '--prefix', protocolOnly, '--no-audit', '--no-fund', tgz('protocol')], { cwd: root });
  const cliHelpers = filesUnder(join(protocolOnly, 'node_modules')).filter((f) => /(^|\/)(dotenv|pino|pino-pretty|commander)(\/|$)/.test(f));
  if (cliHelpers.length > 0) fail(`installing the protocol brought the commands' helpers: ${cliHelpers.slice(0, 5).join(', ')}`);

  // The peer alone: a laptop that only shares and downloads needs no compiler.
  say('installing the peer alone');
  const peerOnly = join(root, 'peer-only');
  run('npm', ['install', '--global', '--prefix', peerOnly, '--no-audit', '--no-fund', tgz('protocol'), tgz('cli'), tgz('peer')], { cwd: root });
  const installed = filesUnder(join(peerOnly, 'lib', 'node_modules'));
  const native = installed.filter((f) => f.endsWith('.node') || /(^|\/)(better-sqlite3|pg)(\/|$)/.test(f));
  if (native.length > 0) fail(`a peer-only install brought native or database code: ${native.slice(0, 5).join(', ')}`);
  const version = run(join(peerOnly, 'bin', 'peer'), ['--version'], { cwd: root }).trim();
  if (version !== JSON.parse(readFileSync(join(REPO, 'packages/peer/package.json'), 'utf8')).version) fail(`peer --version said ${version}`);

  say('installing all four packages (better-sqlite3 builds for the tracker)');
  const prefix = join(root, 'prefix');
  run('npm', ['install', '--global', '--prefix', prefix, '--allow-scripts=better-sqlite3', '--no-audit', '--no-fund', tgz('protocol'), tgz('cli'), tgz('tracker'), tgz('peer')], { cwd: root });
  const bin = (name) => join(prefix, 'bin', name);

  // A folder that has nothing to do with the repository, settings in its own .env, as documented.
  const home = join(root, 'somewhere');
  mkdirSync(home);
  const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_STATE_HOME: join(home, '.state'), PEER_HOST: '127.0.0.1', TRACKER_ANNOUNCE: 'off', PEER_DISCOVER: 'off' };
  say('running tracker start, peer share, peer list --json, peer get and peer ui from an unrelated folder');
  const trackerDir = join(home, 'tracker');
  mkdirSync(trackerDir);
  writeFileSync(join(trackerDir, '.env'), 'TRACKER_HOST=127.0.0.1\nTRACKER_PORT=0\nTRACKER_DB=network.db\n');
  const tracker = start(bin('tracker'), ['start'], { cwd: trackerDir, env });
  const { port } = JSON.parse(await tracker.waitFor(/tracker listening/));
  writeFileSync(join(home, '.env'), `PEER_TRACKER=127.0.0.1:${port}\n`);

  const shared = join(home, 'Music');
  mkdirSync(shared);
  const song = randomBytes(3 * 1024 * 1024 + 11);
  writeFileSync(join(shared, 'song.flac'), song);
  const sharer = start(bin('peer'), ['share', shared], { cwd: home, env });
  await sharer.waitFor(/^sharing 1 file/);

  const listed = JSON.parse(run(bin('peer'), ['list', '--json'], { cwd: home, env }));
  const sha256 = createHash('sha256').update(song).digest('hex');
  if (listed.length !== 1 || listed[0].name !== 'song.flac' || listed[0].sha256 !== sha256) fail(`peer list --json showed ${JSON.stringify(listed)}`);

  run(bin('peer'), ['get', 'song.flac', '--out', join(home, 'Downloads')], { cwd: home, env });
  if (!readFileSync(join(home, 'Downloads', 'song.flac')).equals(song)) fail('peer get saved other bytes');

  // The page is shipped in the package (web/): the installed `peer ui` must serve it.
  const ui = start(bin('peer'), ['ui', '--ui-port', '0'], { cwd: home, env });
  const url = new URL((await ui.waitFor(/^peer ui: open /)).replace('peer ui: open ', ''));
  const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? fail(`peer ui printed no token: ${url}`);
  const page = await fetch(new URL('/', url));
  const html = await page.text();
  if (page.status !== 200 || !html.includes('<title>P2PService</title>')) fail(`peer ui served HTTP ${page.status}: ${html.slice(0, 200)}`);
  const script = await fetch(new URL('/app.js', url));
  if (script.status !== 200) fail(`peer ui served /app.js with HTTP ${script.status}`);
  // The page's API answers with the token in its header, and only with it.
  const state = await fetch(new URL('/api/state', url), { headers: { 'x-p2p-token': token } });
  if (state.status !== 200) fail(`peer ui answered /api/state with HTTP ${state.status}`);
  const refused = await fetch(new URL('/api/state', url));
  if (refused.status !== 401) fail(`peer ui answered /api/state without its token with HTTP ${refused.status}`);
  say('ok: installed from the tarballs, the programs work from any folder');
} catch (error) {
  say(`FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
