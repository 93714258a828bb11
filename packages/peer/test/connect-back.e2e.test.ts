import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';

/*
 * Firewalled holders with the built CLIs. A firewall is emulated on loopback with addresses: the tracker
 * sees every peer come from 127.0.0.1, and a peer that listens only on 127.0.0.2 (PEER_HOST) cannot be
 * reached there, while it can still dial out. Such a holder shares anyway; others download from it
 * through connect-back; a downloader firewalled the same way is told in one line what to open.
 */

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const album = randomBytes(2 * 1024 * 1024 + 5);
const movie = randomBytes(12 * 1024 * 1024);

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let firewalled: Running;
const env = (extra: Record<string, string> = {}) => cleanEnv({ PEER_TRACKER: tracker.address, ...extra });
const behindFirewall = { PEER_HOST: '127.0.0.2' };

function folder(name: string, files: Record<string, Buffer>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(join(dir, file), data);
  return dir;
}

beforeAll(async () => {
  root = tempDir('p2p-connect-back-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  firewalled = start(PEER_BIN, ['share', folder('carol', { 'album.flac': album })], { cwd: root, env: env(behindFirewall) });
  await firewalled.waitFor(/^sharing 1 file/);
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('a firewalled holder', () => {
  it('shares anyway, told why and what would make it reachable', async () => {
    const line = await firewalled.waitFor(/^firewalled: /);
    expect(line).toMatch(/^firewalled: the tracker cannot reach 127\.0\.0\.1:(\d+) \(connection refused\); others download through connect-back .*; let TCP port \1 in \(set PEER_PORT to keep it\) to be reached directly$/);
    const listed = await run(PEER_BIN, ['list'], { cwd: root, env: env() });
    expect(listed.stdout).toMatch(/album\.flac\s+2\.0 MiB\s+1 \(1 firewalled\)/);
    const json = await run(PEER_BIN, ['list', '--json'], { cwd: root, env: env() });
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'album.flac', size: album.length, sha256: sha256(album), holders: 1, firewalled: 1 }]);
  });

  it('is downloaded from through connect-back, byte for byte', async () => {
    const out = join(root, 'dave');
    const got = await run(PEER_BIN, ['get', 'album.flac', '--out', out, '--json'], { cwd: root, env: env() });
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ size: album.length, sha256: sha256(album), holders: [{ holder: expect.stringMatching(/^127\.0\.0\.1:\d+$/), bytes: album.length }] });
    expect(readFileSync(join(out, 'album.flac')).equals(album)).toBe(true);
  });

  it('comes back to the port PEER_PORT names, or to any free one when that port is taken', async () => {
    // The tracker's own port: taken.
    const out = join(root, 'ivan');
    const got = await run(PEER_BIN, ['get', 'album.flac', '--out', out], { cwd: root, env: env({ PEER_PORT: String(tracker.port) }) });
    expect(got.stderr).toBe('');
    expect(readFileSync(join(out, 'album.flac')).equals(album)).toBe(true);
  });

  it('cannot be reached by a downloader firewalled too, which is told so in one line naming the fix; nothing is left behind', async () => {
    const out = join(root, 'erin');
    const got = await run(PEER_BIN, ['get', 'album.flac', '--out', out], { cwd: root, env: env(behindFirewall) });
    expect(got.code).toBe(1);
    expect(got.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^peer: cannot download "album\.flac": its only holder is firewalled, and so are you: the tracker cannot reach your port 127\.0\.0\.1:\d+ either \(connection refused\) \(open a TCP port on either side: set PEER_PORT/),
    ]);
    expect(existsSync(join(out, 'album.flac'))).toBe(false);
    expect(existsSync(out) ? readdirSync(out).filter((f) => !f.endsWith('.part') && !f.endsWith('.json')) : []).toEqual([]);
  });

  it('that dies mid-transfer is failed over like any other holder', async () => {
    // The same movie from a firewalled holder and a reachable one, each at 3 MB/s; the firewalled one dies.
    const slow = { PEER_MAX_UPLOAD_RATE: '3M' };
    // At debug level it logs each upload it starts: the moment it is serving is known, not guessed.
    const hidden = start(PEER_BIN, ['share', folder('frank', { 'movie.mkv': movie })], { cwd: join(root), env: env({ ...behindFirewall, ...slow, LOG_LEVEL: 'debug' }) });
    const hiddenPort = /cannot reach 127\.0\.0\.1:(\d+)/.exec(await hidden.waitFor(/^firewalled: /))![1];
    const open = start(PEER_BIN, ['share', folder('grace', { 'movie.mkv': movie })], { cwd: root, env: env(slow) });
    await open.waitFor(/^sharing 1 file/);

    const out = join(root, 'heidi');
    const get = start(PEER_BIN, ['get', 'movie.mkv', '--out', out, '--json'], { cwd: root, env: env({ PEER_MAX_SOURCES: '2', STALL_TIMEOUT: '2' }) });
    await hidden.waitFor(/upload started/);
    await hidden.stop('SIGKILL');
    const { code } = await get.exited;
    expect(get.stderr.join('\n')).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(get.stdout.join('\n')) as { sha256: string; failed: { holder: string; code: string }[] };
    expect(result.sha256).toBe(sha256(movie));
    // The firewalled holder was serving through connect-back when it died; the other one finished.
    expect(result.failed).toEqual([expect.objectContaining({ holder: `127.0.0.1:${hiddenPort}`, code: 'CONNECTION_CLOSED' })]);
    expect(readFileSync(join(out, 'movie.mkv')).equals(movie)).toBe(true);
    await open.stop();
  });
});
