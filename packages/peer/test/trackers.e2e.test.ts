import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { PG_SCHEMA_VERSION } from '@p2pservice/tracker';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { startTestPostgres, type TestPostgres } from '@p2pservice/test-support/postgres';
import { startTcpProxy } from '@p2pservice/test-support/tcp-proxy';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * Several tracker processes on one real PostgreSQL, with real peers: the built CLIs as child processes.
 * Leases are short (2 s) so that what happens when a tracker dies is seen within seconds.
 */

let postgres: TestPostgres;
let dir: string;
let db: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  postgres = await startTestPostgres();
}, 60_000);
afterAll(() => postgres?.stop());
beforeEach(async () => {
  dir = tempDir('p2p-trackers-');
  db = await postgres.database();
});
afterEach(async () => {
  await killAll();
  await db.drop();
  removeDir(dir);
});

const LEASE_S = 2;
const trackerEnv = (url = db.url, lease = LEASE_S) => cleanEnv({ TRACKER_DB: url, TRACKER_LEASE: String(lease) });
const peerEnv = () => cleanEnv({ RECONNECT_BASE_DELAY: '0.1', RECONNECT_MAX_DELAY: '0.3' });

/** A tracker in a folder of its own (so each has its own identity), on the test's database by default. */
async function tracker(name: string, url?: string, lease?: number, port = 0) {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  const running = await startTrackerCli(cwd, ['--port', String(port)], trackerEnv(url, lease));
  const instance = (JSON.parse(await running.waitFor(/tracker listening/)) as { instance: string }).instance;
  return Object.assign(running, { instance });
}

/** A folder holding one file, shared through `trackers` (comma-separated addresses). */
async function sharing(name: string, trackers: string): Promise<Running & { file: string; bytes: Buffer }> {
  const folder = join(dir, `share-${name}`);
  mkdirSync(folder, { recursive: true });
  const bytes = Buffer.from(`the content of ${name}\n`.repeat(1000));
  writeFileSync(join(folder, `${name}.txt`), bytes);
  const peer = start(PEER_BIN, ['share', folder, '--tracker', trackers], { cwd: dir, env: peerEnv() });
  await peer.waitFor(/^sharing 1 file/);
  return Object.assign(peer, { file: `${name}.txt`, bytes });
}

const peer = (args: string[]) => run(PEER_BIN, args, { cwd: dir, env: peerEnv() });

/** The names `peer list --json` shows through `tracker`, with their holder counts. */
async function listed(tracker: string): Promise<Record<string, number>> {
  const result = await peer(['list', '--json', '--tracker', tracker]);
  if (result.code !== 0) throw new Error(`peer list failed (${result.code}): ${result.stderr}`);
  const rows = JSON.parse(result.stdout) as { name: string; holders: number }[];
  return Object.fromEntries(rows.map((row) => [row.name, row.holders]));
}

/** Rows in the database itself, by the instance that owns them. */
async function peersByInstance(): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const rows = (await client.query<{ instance: string; n: string }>('SELECT instance, count(*) AS n FROM peers GROUP BY instance')).rows;
    return Object.fromEntries(rows.map((row) => [row.instance, Number(row.n)]));
  } finally {
    await client.end();
  }
}

/** A loopback port nothing listens on (for a tracker started later, or a database that is not there). */
function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('several trackers on one PostgreSQL', () => {
  it('relay a connect-back to a firewalled holder through the tracker it is connected to, whichever the downloader asks first', async () => {
    const [a, b] = await Promise.all([tracker('a'), tracker('b')]);
    const folder = join(dir, 'share-hidden');
    mkdirSync(folder, { recursive: true });
    const bytes = Buffer.from('behind a firewall\n'.repeat(5000));
    writeFileSync(join(folder, 'hidden.txt'), bytes);
    // Listening on 127.0.0.2 only: the trackers, which see it at 127.0.0.1, cannot reach it.
    const hidden = start(PEER_BIN, ['share', folder, '--tracker', a.pinned], { cwd: dir, env: { ...peerEnv(), PEER_HOST: '127.0.0.2' } });
    await hidden.waitFor(/^firewalled: /);
    for (let round = 0; round < 3; round++) {
      const out = join(dir, `got-${round}`);
      const got = await peer(['get', 'hidden.txt', '--out', out, '--tracker', `${b.pinned},${a.pinned}`]);
      expect(got.stderr).toBe('');
      expect(readFileSync(join(out, 'hidden.txt')).equals(bytes)).toBe(true);
    }
    // A downloader that knows only another tracker of the network is told where the holder is not.
    const lost = await peer(['get', 'hidden.txt', '--out', join(dir, 'lost'), '--tracker', b.pinned]);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/is not connected to this tracker as a firewalled peer; it may have left, or be on another tracker of the network/);
  });

  it('show one network: a file shared through one is listed, found and downloaded through any other', async () => {
    const [a, b, c] = await Promise.all([tracker('a'), tracker('b'), tracker('c')]);
    const alpha = await sharing('alpha', a.pinned);
    const beta = await sharing('beta', b.pinned);
    for (const through of [a, b, c]) expect(await listed(through.pinned)).toEqual({ 'alpha.txt': 1, 'beta.txt': 1 });

    const found = await peer(['search', 'alpha', '--json', '--tracker', c.pinned]);
    expect(found.stdout).toContain(`"sha256":"${sha256(alpha.bytes)}"`);
    const out = join(dir, 'downloads');
    const got = await peer(['get', 'beta.txt', '--out', out, '--tracker', c.pinned]);
    expect(got.code).toBe(0);
    expect(readFileSync(join(out, 'beta.txt')).equals(beta.bytes)).toBe(true);
  });

  it("tell a wishlist of matches shared through any of them: a peer given them all has each watch its wants", async () => {
    const [a, b] = await Promise.all([tracker('a'), tracker('b')]);
    const home = join(dir, 'fan');
    mkdirSync(join(home, 'own'), { recursive: true });
    const env = { ...peerEnv(), PEER_TRACKER: `${a.pinned},${b.pinned}`, PEER_HOST: '127.0.0.1' };
    const wanted = await run(PEER_BIN, ['want', 'gig'], { cwd: home, env });
    expect(wanted.code, wanted.stderr).toBe(0);
    // An hour between searches: only the trackers' notices can bring the matches in time.
    const fan = start(PEER_BIN, ['share', 'own'], { cwd: home, env: { ...env, PEER_WANT_DIR: join(home, 'wanted'), PEER_WANT_INTERVAL: '3600' } });
    await fan.waitFor(/^peer: the tracker watches the wishlist: new matches are fetched as they are shared$/);
    // A match registered through each tracker (each tracker matches only what is registered through it).
    for (const [name, through] of [['gig-a', a], ['gig-b', b]] as const) {
      const shared = await sharing(name, through.pinned);
      await fan.waitFor(new RegExp(`^peer: wanted "gig": saved .*${name}\\.txt \\(`), 15_000);
      expect(readFileSync(join(home, 'wanted', shared.file)).equals(shared.bytes)).toBe(true);
    }
  });

  it('refuse a banned identity on every tracker of the network: its share leaves the list, others stay', async () => {
    const [a, b, c] = await Promise.all([tracker('a'), tracker('b'), tracker('c')]);
    // Alpha shares from a folder of its own, so it has an identity of its own.
    const folder = join(dir, 'alpha');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'alpha.txt'), 'from alpha\n');
    const alpha = start(PEER_BIN, ['share', '.', '--tracker', b.pinned], { cwd: folder, env: peerEnv() });
    const alphaId = /made a new identity for this peer, (\S+) /.exec(await alpha.waitFor(/made a new identity/))![1]!;
    await alpha.waitFor(/^sharing 1 file/);
    await sharing('beta', c.pinned);
    expect(await listed(a.pinned)).toEqual({ 'alpha.txt': 1, 'beta.txt': 1 });
    const banned = await run(TRACKER_BIN, ['ban', alphaId, '--db', db.url], { cwd: dir, env: cleanEnv() });
    expect(banned.stdout).toBe(`banned ${alphaId} for good\n`);
    await eventually(async () => JSON.stringify(await listed(a.pinned)) === '{"beta.txt":1}', 5_000);
    const elsewhere = await run(PEER_BIN, ['share', '.', '--tracker', c.pinned], { cwd: folder, env: peerEnv() });
    expect(elsewhere.stderr).toMatch(/refused: this identity is banned from the network for good/);
    expect(await listed(b.pinned)).toEqual({ 'beta.txt': 1 });
  });

  it('make one members network: an invite made on the database admits through any tracker, a ticket from one is taken by holders of another, a revocation reaches all', async () => {
    const members = async (name: string) => {
      const cwd = join(dir, name);
      mkdirSync(cwd, { recursive: true });
      return startTrackerCli(cwd, ['--port', '0', '--network', 'members'], cleanEnv({ TRACKER_DB: db.url, TRACKER_LEASE: String(LEASE_S), TICKET_LIFETIME: '2' }));
    };
    const [a, b, c] = await Promise.all([members('a'), members('b'), members('c')]);
    // Made where the tracker of the link runs: the link pins that tracker's identity.
    const invite = async (name: string, through: { address: string }, where: string) => {
      const made = await run(TRACKER_BIN, ['invite', '--name', name, '--address', through.address, '--db', db.url], { cwd: join(dir, where), env: cleanEnv() });
      expect(made.code, made.stderr).toBe(0);
      return made.stdout.trim();
    };
    const folder = (name: string) => {
      const path = join(dir, `member-${name}`);
      mkdirSync(path, { recursive: true });
      return path;
    };
    // Alpha joins through a (whose identity the link pins) and shares through b, with b's identity pinned.
    expect((await run(PEER_BIN, ['join', await invite('alpha', a, 'a')], { cwd: folder('alpha'), env: peerEnv() })).stdout).toMatch(/you are alpha\)/);
    const bytes = Buffer.from('members only\n'.repeat(200_000));
    writeFileSync(join(folder('alpha'), 'alpha.txt'), bytes);
    const alpha = start(PEER_BIN, ['share', '.', '--tracker', b.pinned], { cwd: folder('alpha'), env: { ...peerEnv(), PEER_MAX_UPLOAD_RATE: '1M' } });
    await alpha.waitFor(/^sharing 1 file/);
    // Beta joins through c and downloads through c: c signs its tickets, alpha's holder (on b) takes them,
    // also the ones renewed during the download (2.6 MB at 1 MB/s, tickets of 2 s).
    expect((await run(PEER_BIN, ['join', await invite('beta', c, 'c')], { cwd: folder('beta'), env: peerEnv() })).stdout).toMatch(/you are beta\)/);
    const got = await run(PEER_BIN, ['get', 'alpha.txt', '--out', 'in', '--tracker', c.pinned], { cwd: folder('beta'), env: peerEnv() });
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(folder('beta'), 'in', 'alpha.txt')).equals(bytes)).toBe(true);
    // Revoked on the database: alpha's share leaves the list of every tracker within seconds.
    expect((await run(TRACKER_BIN, ['revoke', 'alpha', '--db', db.url], { cwd: dir, env: cleanEnv() })).stdout).toMatch(/^revoked alpha /);
    const list = (through: { pinned: string }) => run(PEER_BIN, ['list', '--json', '--tracker', through.pinned], { cwd: folder('beta'), env: peerEnv() });
    await eventually(async () => (await list(a)).stdout === '[]\n', 5_000);
    for (const through of [b, c]) expect((await list(through)).stdout).toBe('[]\n');
    const again = await run(PEER_BIN, ['list', '--tracker', c.pinned], { cwd: folder('alpha'), env: peerEnv() });
    expect(again.stderr).toMatch(/refused: this identity \(alpha\) was revoked from the network at /);
  });

  it('start together on an empty database, one of them making the schema', async () => {
    const [a, b] = await Promise.all([tracker('a'), tracker('b')]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await client.query('SELECT version FROM p2p_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await client.end();
    await sharing('alpha', a.pinned);
    expect(await listed(b.pinned)).toEqual({ 'alpha.txt': 1 });
  });

  it("keep a SIGKILLed tracker's peers listed only until its lease lapses; its peers that know another tracker move there", async () => {
    const a = await tracker('a');
    // The peer that can move knows a second tracker that is not up yet, so it starts on the first.
    const bPort = await unusedPort();
    const mover = await sharing('mover', `${a.pinned},127.0.0.1:${bPort}`);
    const stayer = await sharing('stayer', a.pinned);
    const b = await tracker('b', undefined, undefined, bPort);
    expect(await peersByInstance()).toEqual({ [a.instance]: 2 });

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    // The dead tracker's rows are still there (its lease has not lapsed): the network still lists them.
    expect((await peersByInstance())[a.instance]).toBe(2);

    await mover.waitFor(new RegExp(`^moved to tracker 127\\.0\\.0\\.1:${bPort} of the same network; 1 file registered again$`));
    await eventually(async () => (await peersByInstance())[a.instance] === undefined, 15_000);
    const gone = Date.now() - killedAt;
    expect(gone).toBeLessThan((LEASE_S + 5) * 1000);
    expect(await peersByInstance()).toEqual({ [b.instance]: 1 });
    expect(await listed(b.pinned)).toEqual({ 'mover.txt': 1 });
    expect(stayer.stderr.join('\n')).toMatch(/tracker 127\.0\.0\.1:\d+ lost/);
  });

  it('answer UNAVAILABLE while the database is down, keep the connections, and lose or double nothing', async () => {
    const a = await tracker('a', undefined, 15);
    const kept = await sharing('kept', a.pinned);
    const leaving = await sharing('leaving', a.pinned);
    await postgres.halt();
    try {
      const list = await peer(['list', '--tracker', a.pinned]);
      expect(list.code).toBe(1);
      expect(list.stderr, `tracker a said:\n${a.stderr.join('\n')}`).toMatch(/\npeer: 127\.0\.0\.1:\d+: the tracker cannot reach its database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test_\w+: .*; try again in a moment, or another tracker\n$/);
      expect(list.stderr).not.toContain(new URL(db.url).password);
      // A peer leaving during the outage: its rows cannot be deleted yet.
      await leaving.stop('SIGTERM');
    } finally {
      await postgres.resume();
    }
    await eventually(async () => JSON.stringify(await listed(a.pinned)) === JSON.stringify({ 'kept.txt': 1 }), 15_000);
    expect(await peersByInstance()).toEqual({ [a.instance]: 1 });
    // The sharing peer kept its connection through the outage.
    expect(kept.stderr.join('\n')).not.toMatch(/lost/);
  });

  it('stop serving when cut off from the database for longer than the lease, and serve again once back', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: postgres.port });
    try {
      const viaProxy = new URL(db.url);
      viaProxy.port = String(proxy.port);
      const a = await tracker('a', viaProxy.toString());
      const bPort = await unusedPort();
      const mover = await sharing('mover', `${a.pinned},127.0.0.1:${bPort}`);
      const b = await tracker('b', undefined, undefined, bPort);

      proxy.cut();
      await a.waitFor(/this tracker stops serving/, 10_000);
      await mover.waitFor(/^moved to tracker/, 10_000);
      const refused = await peer(['list', '--tracker', a.pinned]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/this tracker lost its lease on the network database and is rejoining/);
      // The others removed the cut-off tracker's rows once its lease lapsed.
      await eventually(async () => (await peersByInstance())[a.instance] === undefined, 10_000);
      expect(await listed(b.pinned)).toEqual({ 'mover.txt': 1 });

      proxy.restore();
      await a.waitFor(/rejoined the network and serves again/, 20_000);
      expect(await listed(a.pinned)).toEqual({ 'mover.txt': 1 });
    } finally {
      await proxy.close();
    }
  });

  it('refuse to start without their database, in one line that names it without its password', async () => {
    const port = await unusedPort();
    const cwd = join(dir, 'nodb');
    mkdirSync(cwd);
    const result = await run(TRACKER_BIN, ['start', '--port', '0'], { cwd, env: cleanEnv({ TRACKER_DB: `postgres://tracker:s3cret@127.0.0.1:${port}/p2p` }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tracker: cannot reach database postgres://tracker:***@127.0.0.1:${port}/p2p: connect ECONNREFUSED 127.0.0.1:${port} (check TRACKER_DB, and that the PostgreSQL server runs and takes connections from here)\n`,
    );
  });
});
