import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, REPO, run, type Running, start, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { makeNamespace, type Namespace } from '@p2pservice/test-support/netns';
import { CHROMIUM } from '@p2pservice/test-support/browser';

/*
 * Finding the tracker on a LAN, with the built CLIs, inside a network namespace of the test's own: its
 * loopback carries the multicast, so nothing is announced or asked on this machine's real network.
 */

const made = makeNamespace();
const ns = typeof made === 'string' ? undefined : (made as Namespace);
if (typeof made === 'string') console.warn(`LAN discovery tests skipped: ${made}`);

let root: string;
// Announcing and looking on: the namespace is the LAN.
const lanEnv = (extra: Record<string, string> = {}) => cleanEnv({ TRACKER_ANNOUNCE: 'on', PEER_DISCOVER: 'on', PEER_HOST: '127.0.0.1', ...extra });

beforeAll(() => {
  root = tempDir('p2p-lan-');
});
afterEach(killAll);
afterAll(() => {
  ns?.remove();
  removeDir(root);
});

/** A tracker in the namespace on every interface (there: loopback), announced as `name`; resolves once announced. */
async function lanTracker(folder: string, name: string, extra: Record<string, string> = {}): Promise<Running & { port: number; identity: string }> {
  mkdirSync(join(root, folder), { recursive: true });
  const tracker = start(TRACKER_BIN, ['start', '--port', '0', '--db', join(root, folder, 'tracker.db'), '--name', name], { cwd: join(root, folder), env: lanEnv(extra), netns: ns!.name });
  const port = (JSON.parse(await tracker.waitFor(/tracker listening/)) as { port: number }).port;
  const identity = (JSON.parse(await tracker.waitFor(/peers connect with/)) as { identity: string }).identity;
  if (extra.TRACKER_ANNOUNCE !== 'off') await tracker.waitFor(/announced on the LAN/);
  return Object.assign(tracker, { port, identity });
}

/** A peer's folder (its own config: identity, known trackers, kept settings). */
function peerFolder(name: string, files: Record<string, string> = {}): string {
  const folder = join(root, name);
  mkdirSync(join(folder, 'share'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, 'share', file), text);
  return folder;
}

const peer = (args: string[], cwd: string, extra: Record<string, string> = {}) => run(PEER_BIN, args, { cwd, env: lanEnv(extra), netns: ns!.name, timeoutMs: 30_000 });

describe.skipIf(!ns)('LAN discovery in a network namespace', () => {
  it('a peer with no tracker set finds the one announced, shares, and another downloads', async () => {
    const tracker = await lanTracker('t-one', 'lab');
    expect(tracker.stderr.join('\n')).toMatch(/"announcedAs":"lab","interface":"every IPv4 interface"/);
    const alice = peerFolder('alice-one', { 'song.txt': 'a song from alice\n' });
    const sharing = start(PEER_BIN, ['share', 'share'], { cwd: alice, env: lanEnv(), netns: ns!.name });
    await sharing.waitFor(/^sharing 1 file/);
    expect(sharing.stderr.join('\n')).toContain(`peer: trusting tracker "lab" found on the LAN on first use; its identity ${tracker.identity} is remembered under that name`);
    expect(sharing.stderr.join('\n')).toContain(`peer: using tracker "lab" at 127.0.0.1:${tracker.port}, found on the LAN (open network)`);

    const bob = peerFolder('bob-one');
    const got = await peer(['get', 'song.txt', '--out', 'downloads'], bob);
    expect(got.stderr).toContain('using tracker "lab"');
    expect(got.code).toBe(0);
    expect(readFileSync(join(bob, 'downloads', 'song.txt'), 'utf8')).toBe('a song from alice\n');

    const listed = await peer(['trackers', '--json'], bob);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: 'lab', network: 'open', address: `127.0.0.1:${tracker.port}`, id: tracker.identity, state: 'known' }]);
    await sharing.stop('SIGINT');
    await tracker.stop('SIGINT');
  });

  it('two trackers: the peer names both and says how to choose, and a choice works', async () => {
    const lab = await lanTracker('t-lab', 'lab');
    const club = await lanTracker('t-club', 'club');
    const carol = peerFolder('carol');
    const asked = await peer(['list'], carol);
    expect(asked.code).not.toBe(0);
    expect(asked.stderr).toContain('peer: 2 trackers answered on the LAN: "club", "lab"');
    expect(asked.stderr).toContain('choose one: --tracker ADDRESS as listed above');
    expect(asked.stderr).toContain(`127.0.0.1:${lab.port}#${lab.identity}`);
    expect(asked.stderr).toContain(`127.0.0.1:${club.port}#${club.identity}`);
    const chosen = await peer(['list', '--tracker', `127.0.0.1:${club.port}#${club.identity}`], carol);
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain('No files are shared on the network yet.');
  });

  it('two trackers in the menu: it lists them and asks which, then goes on with the choice', async () => {
    const lab = await lanTracker('t-menu-lab', 'menu-lab');
    await lanTracker('t-menu-club', 'menu-club');
    const gina = peerFolder('gina');
    const result = await run(PEER_BIN, [], { cwd: gina, env: lanEnv(), netns: ns!.name, input: '2\n4\n', timeoutMs: 30_000 });
    expect(result.stderr).toContain('2 trackers answered on the LAN:\n  1) menu-club  127.0.0.1:');
    expect(result.stderr).toContain(`  2) menu-lab  127.0.0.1:${lab.port}  open network\n`);
    expect(result.stderr).toContain(`peer: using tracker "menu-lab" at 127.0.0.1:${lab.port}, found on the LAN (open network)`);
    expect(result.stdout).toMatch(/^Use which \(1-2\)\? P2PService peer — tracker 127\.0\.0\.1:\d+\n/);
    expect(result.stdout).toContain('bye');
    expect(result.code).toBe(0);
  });

  it('a tracker that stops says goodbye: a browser drops it at once', async () => {
    const browser = start(join(REPO, 'packages/peer/test/fixtures/browse-trackers.mjs'), [], { cwd: root, env: lanEnv(), netns: ns!.name });
    await browser.waitFor(/^browsing$/);
    const tracker = await lanTracker('t-bye', 'bye');
    await browser.waitFor(/^up bye$/);
    await tracker.stop('SIGINT');
    // Long before its records' TTL (120 s) would run out.
    await browser.waitFor(/^down bye$/, 5_000);
  });

  it('a tracker on loopback announces on loopback only', async () => {
    mkdirSync(join(root, 't-loop'), { recursive: true });
    const tracker = start(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 't-loop', 'tracker.db'), '--name', 'loop'], { cwd: join(root, 't-loop'), env: lanEnv(), netns: ns!.name });
    expect(await tracker.waitFor(/announced on the LAN/)).toMatch(/"announcedAs":"loop","interface":"127\.0\.0\.1"/);
    const hank = peerFolder('hank');
    const listed = await peer(['trackers', '--json'], hank);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'loop', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })]);
  });

  it('a flood of queries gets a few answers a second, not one each, and the tracker goes on serving', async () => {
    const tracker = await lanTracker('t-flood', 'flood');
    const flood = await run(join(REPO, 'packages/peer/test/fixtures/query-flood.mjs'), ['500', '2500'], { cwd: root, env: lanEnv(), netns: ns!.name });
    expect(flood.stdout).toContain('asked 500');
    const answers = Number(/^answers (\d+)$/m.exec(flood.stdout)![1]);
    // One at once, then one a second: at most four within 2.5 s (and at least one).
    expect(answers).toBeGreaterThanOrEqual(1);
    expect(answers).toBeLessThanOrEqual(4);
    const peer1 = peerFolder('ivy');
    expect((await peer(['list'], peer1)).stderr).toContain(`using tracker "flood" at 127.0.0.1:${tracker.port}`);
  });

  it("two trackers and `peer ui`: the page lists both, and a click on one's Use button puts the peer on that network", async () => {
    const lab = await lanTracker('t-page-lab', 'page-lab');
    await lanTracker('t-page-club', 'page-club');
    const judy = peerFolder('judy');
    const ui = start(PEER_BIN, ['ui', '--ui-port', '0'], { cwd: judy, env: lanEnv(), netns: ns!.name });
    const url = (await ui.waitFor(/^peer ui: open /)).replace('peer ui: open ', '');
    expect(ui.stderr.join('\n')).toContain('peer: 2 trackers answered on the LAN: "page-club", "page-lab": choose the network in the page');
    const picked = await run(join(REPO, 'packages/peer/test/fixtures/page-pick.mjs'), [url, 'page-lab', CHROMIUM], { cwd: judy, env: { ...lanEnv(), HOME: process.env.HOME! }, netns: ns!.name, timeoutMs: 60_000 });
    expect(picked.stdout, picked.stderr).toContain('listed page-club,page-lab');
    expect(picked.stdout).toContain(`network Tracker 127.0.0.1:${lab.port}`);
    expect(picked.stdout).toContain(`link p2p://127.0.0.1:${lab.port}#${lab.identity}`);
  });

  it('two trackers asking for the same name: the second is announced as "NAME (2)"', async () => {
    await lanTracker('t-same1', 'same');
    const second = await lanTracker('t-same2', 'same');
    expect(second.stderr.join('\n')).toMatch(/"announcedAs":"same \(2\)"/);
  });

  it('a stale announcement (nothing answers at its port) does not stop the peer using the live tracker', async () => {
    const stale = start(join(REPO, 'packages/peer/test/fixtures/announce-stale.mjs'), ['stale'], { cwd: root, env: lanEnv(), netns: ns!.name });
    await stale.waitFor(/^announced/);
    const dave = peerFolder('dave');
    const alone = await peer(['list'], dave);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/^peer: tracker "stale" is announced on the LAN but does not answer at 127\.0\.0\.1:9 \(is it still running\?/m);

    const live = await lanTracker('t-live', 'live');
    const listed = await peer(['list'], dave);
    expect(listed.stderr).toContain(`peer: using tracker "live" at 127.0.0.1:${live.port}`);
    expect(listed.code).toBe(0);
    const table = await peer(['trackers'], dave);
    expect(table.stdout).toMatch(/^stale\s+open\s+127\.0\.0\.1:9#\S+\s+silent$/m);
    expect(table.stdout).toMatch(/^live\s+open\s+127\.0\.0\.1:\d+#\S+\s+known$/m);
  });

  it('with announcing off, the peer says in one line that no tracker answered, and what to do', async () => {
    await lanTracker('t-quiet', 'quiet', { TRACKER_ANNOUNCE: 'off' });
    const erin = peerFolder('erin');
    const result = await peer(['list'], erin);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      'peer: no tracker answered on the LAN within 3 s (start one with `tracker start` on this network, or give its address: --tracker HOST:PORT, PEER_TRACKER=HOST:PORT in .env, or `peer join LINK` once)\n',
    );
    const off = await peer(['list'], erin, { PEER_DISCOVER: 'off' });
    expect(off.stderr).toMatch(/^peer: no tracker is set, and looking for one on the LAN is off \(PEER_DISCOVER=off\)/);
  });

  it('an impostor announcing a pinned name with another identity is refused', async () => {
    const real = await lanTracker('t-real', 'home');
    const frank = peerFolder('frank');
    expect((await peer(['list'], frank)).stderr).toContain('trusting tracker "home" found on the LAN on first use');
    await real.stop('SIGINT');
    const impostor = await lanTracker('t-impostor', 'home');
    expect(impostor.identity).not.toBe(real.identity);
    const result = await peer(['list'], frank);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`peer: refused tracker "home" on the LAN: it announces identity ${impostor.identity}, but "home" was remembered as ${real.identity}; this may be an impostor`);
    expect(result.stderr).toContain('peer: no other tracker answered on the LAN');
  });
});
