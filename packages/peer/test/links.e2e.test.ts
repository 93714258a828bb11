import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEndpoint } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * Content links with the built CLIs: `peer link` names exactly one content and its tracker; `peer get
 * LINK` fetches those bytes from whoever shares them, under whatever name they share them now.
 */

const song = Buffer.from('a song that will be renamed\n'.repeat(1000));
let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let holder: Running;
let shared: string;
let env: NodeJS.ProcessEnv;

const peer = (args: string[], cwd: string, extra: Record<string, string> = {}) => run(PEER_BIN, args, { cwd, env: { ...env, ...extra } });
function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  root = tempDir('p2p-links-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
  shared = folder('shared');
  mkdirSync(join(shared, 'albums'));
  writeFileSync(join(shared, 'albums', 'first name.txt'), song);
  holder = start(PEER_BIN, ['share', shared], { cwd: root, env });
  await holder.waitFor(/^sharing /);
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('content links', () => {
  let link: string;

  it('`peer link NAME` prints a link naming the tracker, its identity, the sha256, size, name and piece root', async () => {
    const result = await peer(['link', 'albums/first name.txt'], folder('alice'));
    expect(result.code, result.stderr).toBe(0);
    link = result.stdout.trim();
    expect(link).toMatch(new RegExp(`^p2p://127\\.0\\.0\\.1:${tracker.port}#${tracker.identity}\\?sha256=[0-9a-f]{64}&size=${song.length}&name=albums%2Ffirst%20name\\.txt&root=[0-9a-f]{64}$`));
    expect(parseEndpoint(link).content).toMatchObject({ name: 'albums/first name.txt', size: song.length });
  });

  it('`peer link N` takes a row of the last list shown here', async () => {
    const alice = folder('alice');
    expect((await peer(['list'], alice)).code).toBe(0);
    const result = await peer(['link', '1'], alice);
    expect(result.stdout.trim()).toBe(link);
  });

  it('`peer get LINK` fetches exactly that content after the holder renamed it, under the name the link gives', async () => {
    renameSync(join(shared, 'albums', 'first name.txt'), join(shared, 'albums', 'second name.txt'));
    await eventually(async () => {
      const listed = await peer(['list'], folder('bob'));
      return listed.stdout.includes('albums/second name.txt') && !listed.stdout.includes('albums/first name.txt');
    }, 20_000);
    const bob = folder('bob');
    // No tracker set: the link names it.
    const got = await peer(['get', link, '--out', 'downloads'], bob, { PEER_TRACKER: '' });
    expect(got.code, got.stderr).toBe(0);
    // Saved under the file's own name, as any `peer get` saves (its folder on the network left out).
    expect(got.stdout).toMatch(/^saved downloads\/first name\.txt \(27 KiB, sha256 [0-9a-f]{12}\) from 127\.0\.0\.1:\d+$/m);
    expect(readFileSync(join(bob, 'downloads', 'first name.txt'))).toEqual(song);
  });

  it('says so in one line when nobody shares those bytes, or when the link is not a content link', async () => {
    const other = link.replace(/sha256=[0-9a-f]{64}/, `sha256=${'0'.repeat(64)}`);
    const missing = await peer(['get', other], folder('carol'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`peer: nobody online shares the content of this link ("albums/first name.txt", sha256 000000000000) (try again when its holder is online, or ask for a new link)\n`);
    const join = await peer(['get', `p2p://${tracker.pinned}`], folder('carol'));
    expect(join.code).toBe(2);
    expect(join.stderr).toBe(`peer: that link names a network, not a file (join it with: peer join '<the link>')\n`);
    const cut = await peer(['get', link.replace(/&size=\d+/, '')], folder('carol'));
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/^peer: link "p2p:.*" names a content without its size \(copy the whole link\)\n$/);
  });
});
