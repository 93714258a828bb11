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

  it('a running peer share fetches a match shared after the want was saved, told by the tracker at once; once, and not its own files', async () => {
    // An hour between searches: only the tracker's notice can bring the match in time.
    following = start(PEER_BIN, ['share', 'own'], { cwd: fan, env: { ...env, PEER_WANT_DIR: join(fan, 'wanted'), PEER_WANT_INTERVAL: '3600', LOG_LEVEL: 'debug' } });
    await following.waitFor(/^peer: following the wishlist \(1 want\): new matches go to .*wanted$/);
    await following.waitFor(/^peer: the tracker watches the wishlist: new matches are fetched as they are shared$/);
    // Something that does not match, then the match, shared after the want.
    const other = start(PEER_BIN, ['share', folder('band', { 'studio take.flac': 'not live\n', 'live notes.txt': 'not flac\n' })], { cwd: root, env });
    await other.waitFor(/^sharing 2 files/);
    let band = start(PEER_BIN, ['share', folder('stage', { 'Live at the Hall.flac': live })], { cwd: folder('stage-home'), env });
    await band.waitFor(/^sharing 1 file/);
    await following.waitFor(/^peer: wanted "live ext:flac": saved .*Live at the Hall\.flac \(49 KiB\)$/, 20_000);
    expect(readFileSync(join(fan, 'wanted', 'Live at the Hall.flac'))).toEqual(live);
    expect((await run(PEER_BIN, ['want', '--list'], { cwd: fan, env })).stdout).toMatch(/^1\s+live ext:flac\s+\S+ \S+\s+1$/m);
    // The band shares it again (a new registration, told again): nothing is fetched twice, nothing else
    // is fetched (its own "my own live take.flac" neither).
    const told = () => following.stderr.filter((line) => line.includes('the tracker told of matches')).length;
    expect(told()).toBe(1);
    await band.stop('SIGINT');
    band = start(PEER_BIN, ['share', join(root, 'stage')], { cwd: folder('stage-home'), env });
    await band.waitFor(/^sharing 1 file/);
    await eventually(() => told() === 2, 10_000);
    await following.waitFor(/"msg":"the tracker told of matches"/);
    expect(following.stderr.filter((line) => line.includes('saved'))).toHaveLength(1);
    expect(readdirSync(join(fan, 'wanted')).filter((name) => !name.includes('.part'))).toEqual(['Live at the Hall.flac']);
    await following.stop('SIGINT');
  });

  it('picks up a want added while it runs, at the next interval', async () => {
    // Every 2 s the wishlist is read again; a round that is not for a change comes only every 20 s.
    const runner = start(PEER_BIN, ['share', 'own'], { cwd: fan, env: { ...env, PEER_WANT_DIR: join(fan, 'wanted'), PEER_WANT_INTERVAL: '2', LOG_LEVEL: 'debug' } });
    await runner.waitFor(/^peer: the tracker watches the wishlist/);
    expect((await run(PEER_BIN, ['want', 'encore'], { cwd: fan, env })).code).toBe(0);
    // Read again at the next interval: searched for, and watched from then on.
    const rounds = () => runner.stderr.filter((line) => line.includes('looked for the wishlist')).length;
    const before = rounds();
    await eventually(() => rounds() > before, 10_000);
    const encore = Buffer.from('one more song\n'.repeat(500));
    const band = start(PEER_BIN, ['share', folder('encore', { 'Encore.ogg': encore })], { cwd: folder('encore-home'), env });
    await band.waitFor(/^sharing 1 file/);
    await runner.waitFor(/^peer: wanted "encore": saved .*Encore\.ogg/, 10_000);
    expect(readFileSync(join(fan, 'wanted', 'Encore.ogg'))).toEqual(encore);
  });
});
