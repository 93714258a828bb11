import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * Bans as an operator and the banned meet them, through the built CLIs: `tracker ban` on the database of
 * a running tracker, which refuses the banned identity's share (its rows leave the list) and the banned
 * address, and serves everyone else as before.
 */

let root: string;
let db: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let alice: Running;
let aliceId: string;

const peer = (args: string[], cwd = root) => run(PEER_BIN, args, { cwd, env: cleanEnv({ PEER_HOST: '127.0.0.1' }) });
const operator = (args: string[]) => run(TRACKER_BIN, [...args, '--db', db], { cwd: root, env: cleanEnv() });
const overIPv4 = () => `127.0.0.1:${tracker.port}`;
const overIPv6 = () => `[::1]:${tracker.port}`;
const names = async (address: string) => {
  const list = await peer(['list', '--json', '--tracker', address]);
  expect(list.code, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { name: string }[]).map((entry) => entry.name);
};

function shareAs(name: string, file: string): Running {
  const folder = join(root, name);
  mkdirSync(join(folder, 'shared'), { recursive: true });
  writeFileSync(join(folder, 'shared', file), `from ${name}\n`);
  return start(PEER_BIN, ['share', 'shared', '--tracker', overIPv4()], { cwd: folder, env: cleanEnv({ PEER_HOST: '127.0.0.1', RECONNECT_BASE_DELAY: '0.2', RECONNECT_MAX_DELAY: '1' }) });
}

beforeAll(async () => {
  root = tempDir('p2p-bans-');
  db = join(root, 'tracker.db');
  // Every address, IPv6 and IPv4: one client comes over ::1, another over 127.0.0.1.
  tracker = await startTrackerCli(root, ['--db', db, '--host', '::']);
  alice = shareAs('alice', 'alice.txt');
  aliceId = /made a new identity for this peer, (\S+) /.exec(await alice.waitFor(/made a new identity/))![1]!;
  await alice.waitFor(/^sharing /);
  await shareAs('bob', 'bob.txt').waitFor(/^sharing /);
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('a ban', () => {
  it("of an identity takes its share off the list of the running tracker, refuses it, and leaves others alone", async () => {
    expect((await names(overIPv4())).sort()).toEqual(['alice.txt', 'bob.txt']);
    const banned = await operator(['ban', aliceId, '--for', '1h']);
    expect(banned.code, banned.stderr).toBe(0);
    expect(banned.stdout).toMatch(new RegExp(`^banned ${aliceId} until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`));
    await eventually(async () => JSON.stringify(await names(overIPv4())) === '["bob.txt"]', 5_000);
    // The running share hears why, and keeps trying (the ban may be lifted).
    const said = await alice.waitFor(/this identity is banned from the network until /);
    expect(said).toMatch(new RegExp(`^tracker 127\\.0\\.0\\.1:${tracker.port} refused: this identity is banned from the network until \\S+; retrying in [\\d.]+ s$`));
    const again = await peer(['share', 'shared', '--tracker', overIPv4()], join(root, 'alice'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^peer: tracker 127\\.0\\.0\\.1:${tracker.port} refused: this identity is banned from the network until \\S+ \\(ask the network's operator\\)\\n$`));
    const bans = JSON.parse((await operator(['bans', '--json'])).stdout) as { target: string; until: number | null }[];
    expect(bans.map((ban) => ban.target)).toEqual([aliceId]);
  });

  it('of an address refuses everything from it (an IPv6 address: its /64), and nothing from elsewhere', async () => {
    const banned = await operator(['ban', '::1']);
    expect(banned.stdout).toBe('banned 0:0:0:0::/64 for good\n');
    await eventually(async () => (await peer(['list', '--tracker', overIPv6()])).code === 1, 5_000);
    const refused = await peer(['list', '--tracker', overIPv6()]);
    expect(refused.stderr).toMatch(/^peer: tracker \[::1\]:\d+ refused: address 0:0:0:0::\/64 is banned from the network for good \(ask the network's operator\)\n$/);
    expect(await names(overIPv4())).toEqual(['bob.txt']);
  });

  it('is lifted with unban, and the share comes back on its own', async () => {
    expect((await operator(['unban', '::1'])).stdout).toBe('unbanned 0:0:0:0::/64\n');
    expect((await operator(['unban', aliceId])).stdout).toBe(`unbanned ${aliceId}\n`);
    const none = await operator(['unban', aliceId]);
    expect([none.code, none.stderr]).toEqual([1, `tracker: ${aliceId} is not banned (see \`tracker bans\`)\n`]);
    expect((await operator(['bans'])).stdout).toBe('no bans\n');
    // Alice's share reconnects by itself once the ban is gone.
    await eventually(async () => (await names(overIPv6())).includes('alice.txt'), 40_000);
  });
});
