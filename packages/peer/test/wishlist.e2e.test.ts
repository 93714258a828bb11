import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, forChild, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * The wishlist with the built CLIs: `peer want` saves a search; a running `peer share` fetches each new
 * match once into PEER_WANT_DIR, including a file shared after the want was saved.
 */

let root: string;
let env: NodeJS.ProcessEnv;
let fan: string;
let following: Running;
const live = Buffer.from('a live concert, recorded\n'.repeat(2000));

const folder = (name: string, files: Record<string, string | Buffer> = {}) => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(join(dir, file), data);
  return dir;
};

beforeAll(async () => {
  root = tempDir('p2p-wishlist-');
  const tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1', PEER_WANT_INTERVAL: '0.5' });
  fan = folder('fan');
  folder('fan/own', { 'my own live take.flac': 'mine, shared by me\n' });
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('peer want', () => {
  it('saves a search, checked as any search, listed and kept owner-only', async () => {
    const added = await run(PEER_BIN, ['want', 'live', 'ext:flac'], { cwd: fan, env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe('wanted: "live ext:flac" (1 want)\n');
    expect(added.stderr).toBe('Set PEER_WANT_DIR to the folder for new matches; then a running `peer share` or `peer ui` fetches each once.\n');
    const bad = await run(PEER_BIN, ['want', 'ext:'], { cwd: fan, env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^peer: ext: names no extension/);
    expect((await run(PEER_BIN, ['want', 'other'], { cwd: fan, env })).code).toBe(0);
    const list = await run(PEER_BIN, ['want', '--list'], { cwd: fan, env });
    expect(list.stdout).toMatch(/^#\s+WANTED\s+SINCE\s+FETCHED\n1\s+live ext:flac\s+\S+ \S+\s+0\n2\s+other\s+\S+ \S+\s+0\n$/);
    expect((await run(PEER_BIN, ['want', '--remove', '2'], { cwd: fan, env })).stdout).toBe('no longer wanted: "other"\n');
    const file = join(forChild(env, fan).XDG_CONFIG_HOME!, 'p2pservice', 'wants.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a running peer share fetches a match shared after the want was saved, once, and not its own files', async () => {
    following = start(PEER_BIN, ['share', 'own'], { cwd: fan, env: { ...env, PEER_WANT_DIR: join(fan, 'wanted'), LOG_LEVEL: 'debug' } });
    await following.waitFor(/^peer: following the wishlist \(1 want\): new matches go to .*wanted$/);
    // Something that does not match, then the match, shared after the want.
    const other = start(PEER_BIN, ['share', folder('band', { 'studio take.flac': 'not live\n', 'live notes.txt': 'not flac\n' })], { cwd: root, env });
    await other.waitFor(/^sharing 2 files/);
    const band = start(PEER_BIN, ['share', folder('stage', { 'Live at the Hall.flac': live })], { cwd: root, env });
    await band.waitFor(/^sharing 1 file/);
    await following.waitFor(/^peer: wanted "live ext:flac": saved .*Live at the Hall\.flac \(49 KiB\)$/, 20_000);
    expect(readFileSync(join(fan, 'wanted', 'Live at the Hall.flac'))).toEqual(live);
    // Several more rounds: nothing fetched twice, nothing else fetched (its own "my own live take.flac" neither).
    const rounds = await run(PEER_BIN, ['want', '--list'], { cwd: fan, env });
    expect(rounds.stdout).toMatch(/^1\s+live ext:flac\s+\S+ \S+\s+1$/m);
    // Two more rounds after the fetch, each a look for the want (the debug log says when one is over).
    const roundsSoFar = () => following.stderr.filter((line) => line.includes('looked for the wishlist')).length;
    const after = roundsSoFar();
    await eventually(() => roundsSoFar() >= after + 2, 10_000);
    expect(following.stderr.filter((line) => line.includes('saved'))).toHaveLength(1);
    expect(readdirSync(join(fan, 'wanted')).filter((name) => !name.includes('.part'))).toEqual(['Live at the Hall.flac']);
  });
});
