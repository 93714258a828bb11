import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';

/*
 * IPv6 as a new user meets it: a tracker on ::1 and peers that name it `[::1]:PORT`. A sharing peer must
 * be reachable over the family the tracker saw it on, so by default it listens on every address of both.
 */

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const song = randomBytes(700_000);

let root: string;
let tracker: Running;
let trackerAddress: string;
const env = () => cleanEnv({ PEER_TRACKER: trackerAddress });

beforeAll(async () => {
  root = tempDir('p2p-ipv6-');
  mkdirSync(join(root, 'tracker'));
  tracker = start(TRACKER_BIN, ['start', '--host', '::1', '--port', '0', '--db', join(root, 'tracker.db')], { cwd: join(root, 'tracker'), env: cleanEnv() });
  const { host, port } = JSON.parse(await tracker.waitFor(/tracker listening/)) as { host: string; port: number };
  expect(host).toBe('::1');
  trackerAddress = `[::1]:${port}`;
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('a network on IPv6', () => {
  it('shares, lists and downloads with the tracker at [::1], the holder listed at its IPv6 address', async () => {
    const dir = join(root, 'alice');
    mkdirSync(dir);
    writeFileSync(join(dir, 'song.flac'), song);
    // No PEER_HOST: the default, every address of both families.
    const alice = start(PEER_BIN, ['share', dir], { cwd: root, env: env() });
    await alice.waitFor(/^sharing 1 file/);

    const listed = await run(PEER_BIN, ['list', '--json'], { cwd: root, env: env() });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'song.flac', sha256: sha256(song), holders: 1 })]);

    const out = join(root, 'downloads');
    const got = await run(PEER_BIN, ['get', 'song.flac', '--out', out], { cwd: root, env: env() });
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/from \[::1\]:\d+/);
    expect(readFileSync(join(out, 'song.flac')).equals(song)).toBe(true);
  });

  it('a peer pinned to IPv4 with PEER_HOST is firewalled for an IPv6 tracker, and downloaded from through connect-back over IPv6', async () => {
    const dir = join(root, 'bob');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.txt'), 'bob over connect-back');
    const bob = start(PEER_BIN, ['share', dir], { cwd: root, env: cleanEnv({ PEER_TRACKER: trackerAddress, PEER_HOST: '0.0.0.0' }) });
    expect(await bob.waitFor(/^firewalled: /)).toMatch(/^firewalled: the tracker cannot reach \[::1\]:\d+ \(connection refused\)/);

    const out = join(root, 'from-bob');
    const got = await run(PEER_BIN, ['get', 'b.txt', '--out', out], { cwd: root, env: env() });
    expect(got.stderr).toBe('');
    expect(got.stdout).toMatch(/from \[::1\]:\d+/);
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('bob over connect-back');
  });
});
