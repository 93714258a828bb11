import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { startTestPostgres, type TestPostgres } from '@p2pservice/test-support/postgres';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * A members network as its operator and members meet it, through the built CLIs: invites made with
 * `tracker invite`, redeemed with `peer join`, refused once used or expired; a member revoked while it
 * shares and while it downloads from an honest holder (tickets of TICKET_LIFETIME seconds); quotas. The
 * same on one tracker with SQLite, and on three trackers (each with its own identity) sharing PostgreSQL,
 * whose peers are given all three and use any.
 */

/** Seconds a ticket lasts here: the longest a revoked member may still download. */
const TICKET_LIFETIME = 2;
/** Searches a member may run a minute here: small, to see the quota. */
const SEARCH_QUOTA = 3;
/** Bytes per second the honest holder sends: a big file then takes several ticket lifetimes. */
const UPLOAD_RATE = 1_000_000;

type Tracker = Awaited<ReturnType<typeof startTrackerCli>> & { cwd: string };

describeMembersNetwork('one tracker on SQLite', 1);
describeMembersNetwork('three trackers on PostgreSQL', 3);

function describeMembersNetwork(label: string, count: number): void {
let root: string;
let db: string;
let postgres: TestPostgres | undefined;
let trackers: Tracker[];
let invites = 0;
let alice: Running;
/** The first tracker's HTTP side: /status and /metrics (of the whole network's database). */
let statusBase: string;
const big = randomBytes(6 * UPLOAD_RATE);

const folder = (name: string) => {
  const path = join(root, name);
  mkdirSync(join(path, 'shared'), { recursive: true });
  return path;
};
const peerEnv = (extra: Record<string, string> = {}) =>
  cleanEnv({ PEER_HOST: '127.0.0.1', PEER_TRACKER: trackers.map((t) => t.address).join(','), RECONNECT_BASE_DELAY: '0.2', RECONNECT_MAX_DELAY: '1', ...extra });
const peer = (name: string, args: string[]) => run(PEER_BIN, args, { cwd: folder(name), env: peerEnv() });
/** An operator's command, where the first tracker runs (or where `at` runs: `tracker invite` needs its identity). */
const operator = (args: string[], at = trackers[0]!) => run(TRACKER_BIN, [...args, '--db', db], { cwd: at.cwd, env: cleanEnv() });
const names = async (as: string) => {
  const list = await peer(as, ['list', '--json']);
  expect(list.code, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { name: string }[]).map((entry) => entry.name).sort();
};

/** `tracker invite` for the next tracker in turn (the link pins it); its link (stdout is the link alone). */
async function invite(args: string[] = []): Promise<string> {
  const through = trackers[invites++ % trackers.length]!;
  const made = await operator(['invite', '--address', through.address, ...args], through);
  expect(made.code, made.stderr).toBe(0);
  expect(made.stdout).toMatch(new RegExp(`^p2p://127\\.0\\.0\\.1:${through.port}#${through.identity}\\?invite=[A-Z2-7]{10}\\.[A-Z2-7]{52}\\n$`));
  return made.stdout.trim();
}

async function joinAs(name: string, link: string): Promise<void> {
  const joined = await peer(name, ['join', link]);
  expect(joined.code, joined.stderr).toBe(0);
  expect(joined.stdout).toMatch(new RegExp(`^joined tracker 127\\.0\\.0\\.1:\\d+ \\([A-Z2-7]{7}, members network, you are ${name}\\)\\n$`));
}

function share(name: string, file: string, content: Buffer | string, extra: Record<string, string> = {}): Running {
  writeFileSync(join(folder(name), 'shared', file), content);
  return start(PEER_BIN, ['share', 'shared'], { cwd: folder(name), env: peerEnv(extra) });
}

beforeAll(async () => {
  root = tempDir('p2p-members-');
  if (count > 1) {
    postgres = await startTestPostgres();
    db = (await postgres.database()).url;
  } else {
    db = join(root, 'tracker.db');
  }
  const env = cleanEnv({ TICKET_LIFETIME: String(TICKET_LIFETIME), LOG_FORMAT: 'json', TRACKER_MAX_SEARCHES_PER_MINUTE: String(SEARCH_QUOTA) });
  trackers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      // Each tracker in a folder of its own: an identity of its own.
      const cwd = join(root, `tracker-${i}`);
      mkdirSync(cwd, { recursive: true });
      const running = await startTrackerCli(cwd, ['--db', db, '--network', 'members', ...(i === 0 ? ['--http-port', '0'] : [])], env);
      return Object.assign(running, { cwd });
    }),
  );
  statusBase = (JSON.parse(await trackers[0]!.waitFor(/status page and metrics listening/)) as { url: string }).url.replace(/status$/, '');
}, 60_000);
afterAll(async () => {
  await killAll();
  await postgres?.stop();
  removeDir(root);
});

describe(`a members network, ${label}`, () => {
  // A failure here once came from every tracker losing its lease at once: say what the trackers said.
  beforeEach(() =>
    onTestFailed(() => {
      for (const tracker of trackers ?? []) {
        const said = [...tracker.stdout, ...tracker.stderr].filter((line) => /"level":(4|5)\d/.test(line));
        console.error(`tracker ${tracker.address} warned:\n${said.join('\n') || '(nothing)'}`);
      }
    }),
  );

  it('lets in whoever redeems an invite, who then shares and downloads; nobody else', async () => {
    const stranger = await peer('stranger', ['list']);
    expect([stranger.code, stranger.stderr]).toEqual([1, expect.stringMatching(/refused: this network admits its members only.*ask its operator for an invite \(then join with its link: peer join 'LINK'\)\n$/)]);
    await joinAs('alice', await invite(['--name', 'alice']));
    alice = share('alice', 'big.bin', big, { PEER_MAX_UPLOAD_RATE: String(UPLOAD_RATE) });
    expect(await alice.waitFor(/^sharing /)).toMatch(/members network, you are alice\)$/);
    await joinAs('bob', await invite(['--name', 'bob', '--uses', '1']));
    // Bob's download lasts about three ticket lifetimes: the tickets renewed on the way keep it going.
    const got = await peer('bob', ['get', 'big.bin']);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(folder('bob'), 'big.bin')).equals(big)).toBe(true);
    const members = JSON.parse((await operator(['members', '--json'])).stdout) as { name: string; online: boolean; files: number; revokedAt: number | null }[];
    expect(members.map((m) => [m.name, m.online, m.files, m.revokedAt])).toEqual([
      ['alice', true, 1, null],
      ['bob', false, 0, null],
    ]);
  });

  it('refuses an invite used up, expired or withdrawn, and changes nothing', async () => {
    const once = await invite(['--name', 'carol']);
    await joinAs('carol', once);
    const again = await peer('dave', ['join', once]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/\npeer: tracker 127\.0\.0\.1:\d+ refused: invite [A-Z2-7]{10} has been used already: ask the operator for a new one\n$/)]);
    const brief = await invite(['--expires', '1s']);
    await eventually(async () => (await operator(['invites'])).stdout === 'no open invites\n', 5_000);
    const expired = await peer('dave', ['join', brief]);
    expect(expired.stderr).toMatch(/refused: invite [A-Z2-7]{10} has expired: ask the operator for a new one\n$/);
    const withdrawn = await invite();
    const id = /invite=([A-Z2-7]{10})\./.exec(withdrawn)![1]!;
    expect((await operator(['uninvite', id])).stdout).toBe(`withdrew invite ${id}\n`);
    expect((await peer('dave', ['join', withdrawn])).stderr).toMatch(/refused: invite [A-Z2-7]{10} is not known here \(withdrawn, or never made\)/);
    const names = (JSON.parse((await operator(['members', '--json'])).stdout) as { name: string }[]).map((m) => m.name);
    expect(names).toEqual(['alice', 'bob', 'carol']);
  });

  it('takes a revoked member off the list within seconds, and its download from an honest holder ends within a ticket lifetime', async () => {
    const bob = share('bob', 'bob.txt', 'from bob\n');
    await bob.waitFor(/^sharing /);
    expect(await names('carol')).toEqual(['big.bin', 'bob.txt']);
    // Carol downloads the big file at the holder's pace, and is revoked half way.
    const download = start(PEER_BIN, ['get', 'big.bin', '--out', 'in'], { cwd: folder('carol'), env: peerEnv() });
    // Under way: the part file holds verified pieces.
    const partBytes = () => readdirSync(join(folder('carol'), 'in')).filter((f) => f.endsWith('.part')).map((f) => statSync(join(folder('carol'), 'in', f)).size)[0] ?? 0;
    await eventually(() => existsSync(join(folder('carol'), 'in')) && partBytes() > 0, 10_000);
    const revoked = await operator(['revoke', 'carol']);
    expect(revoked.stdout).toMatch(/^revoked carol \([A-Z2-7-]{63}\)\n$/);
    const revokedAt = Date.now();
    const ended = await download.exited;
    expect(ended.code).toBe(1);
    expect(Date.now() - revokedAt).toBeLessThan(TICKET_LIFETIME * 1000 + 5_000);
    expect(download.stderr.join('\n')).toMatch(/^peer: tracker 127\.0\.0\.1:\d+ refused: this identity \(carol\) was revoked from the network at \S+ \(ask the network's operator\)$/m);
    // Bob, revoked while sharing: his file leaves the list, and he is told why.
    await operator(['revoke', 'bob']);
    await eventually(async () => JSON.stringify(await names('alice')) === '["big.bin"]', 5_000);
    expect(await bob.waitFor(/revoked/)).toMatch(/^tracker 127\.0\.0\.1:\d+ refused: this identity \(bob\) was revoked from the network at \S+; retrying in /);
    const log = (JSON.parse((await operator(['members', '--log', '--json'])).stdout) as { event: string }[]).map((e) => e.event);
    expect(log.filter((e) => e === 'revoke')).toHaveLength(2);
  });

  it('holds a member to its search quota, and nobody else', async () => {
    await joinAs('dave', await invite(['--name', 'dave']));
    // Quotas are counted by each tracker: all these searches go to the first.
    const first = ['--tracker', trackers[0]!.address];
    for (let i = 0; i < SEARCH_QUOTA; i++) {
      const found = await peer('dave', ['search', 'big', ...first]);
      expect(found.code, found.stderr).toBe(0);
    }
    const over = await peer('dave', ['search', 'big', ...first]);
    expect([over.code, over.stderr]).toEqual([1, expect.stringMatching(/this identity searched more than 3 times in 60 s \(its quota\)/)]);
    const alices = await peer('alice', ['search', 'big', ...first]);
    expect(alices.code, alices.stderr).toBe(0);
    expect(alices.stdout).toContain('big.bin');
  });

  it('shows its members on the status page and in /metrics', async () => {
    const page = await (await fetch(`${statusBase}status`)).text();
    expect(/<th scope="row">Members<\/th><td>([^<]*)<\/td>/.exec(page)?.[1]).toBe('2 (and 2 revoked)');
    const states = Object.fromEntries([...page.matchAll(/<tr><td>(alice|bob|carol|dave)<\/td><td>(\w+)<\/td>/g)].map((m) => [m[1], m[2]]));
    expect(states).toEqual({ alice: 'online', bob: 'revoked', carol: 'revoked', dave: 'offline' });
    const metrics = await (await fetch(`${statusBase}metrics`)).text();
    expect(metrics).toMatch(/^p2p_tracker_members 2$/m);
    expect(metrics).toMatch(/^p2p_tracker_members_revoked 2$/m);
  });
});
}
