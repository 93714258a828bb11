import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FramedConnection } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, start, tempDir } from '@p2pservice/test-support/processes';
import { registerFrom } from '@p2pservice/test-support/register-from';
import { startTracker, type TestTracker, treeOf } from './support.js';

/*
 * Lists a stranger can fill, as a user meets them: one machine registers fakes under a name, or fake
 * holders of a content, as many as its connections allow; `peer get` still reaches the real thing.
 */

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const iso = randomBytes(300_000);
const movie = randomBytes(200_000);

let root: string;
let tracker: TestTracker;
let env: NodeJS.ProcessEnv;
const fakes: FramedConnection<unknown, unknown>[] = [];
const trackerAddress = () => ({ host: '127.0.0.1', port: tracker.address.port });

/** `peer share` of a folder holding `files`; resolves once it is listed. */
async function share(name: string, files: Record<string, Buffer>): Promise<void> {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [file, data] of Object.entries(files)) writeFileSync(join(dir, file), data);
  await start(PEER_BIN, ['share', dir], { cwd: root, env }).waitFor(/^sharing /);
}

beforeAll(async () => {
  root = tempDir('p2p-eclipse-');
  tracker = await startTracker(join(root, 'tracker.db'));
  env = cleanEnv({ PEER_TRACKER: `127.0.0.1:${tracker.address.port}`, PEER_HOST: '127.0.0.1', STALL_TIMEOUT: '3' });
});
afterAll(async () => {
  for (const fake of fakes) fake.destroy();
  await killAll();
  await tracker.close();
  removeDir(root);
});

describe('a name flooded with fake contents from one machine', () => {
  it('still offers the real one, and --sha256 gets exactly it', async () => {
    await share('real-iso', { 'ubuntu.iso': iso });
    // 64 fake contents (one per connection, as many as one address may open), with hashes that sort first.
    for (let n = 0; n < 64; n++) {
      const fake = n.toString(16).padStart(64, '0');
      fakes.push(await registerFrom('127.0.0.2', trackerAddress(), `fake-iso-${n}`, [{ name: 'ubuntu.iso', size: 3, sha256: fake, root: fake }]));
    }
    const exact = await run(PEER_BIN, ['get', 'ubuntu.iso', '--sha256', sha256(iso), '--out', join(root, 'exact')], { cwd: root, env });
    expect(exact.stderr).toBe('');
    expect(readFileSync(join(root, 'exact', 'ubuntu.iso')).equals(iso)).toBe(true);
    // Without a hash, the real one is among those listed to pick from, and a prefix picks it.
    const ambiguous = await run(PEER_BIN, ['get', 'ubuntu.iso', '--out', join(root, 'picked')], { cwd: root, env });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain(sha256(iso).slice(0, 12));
    const prefix = await run(PEER_BIN, ['get', 'ubuntu.iso', '--sha256', sha256(iso).slice(0, 12), '--out', join(root, 'picked')], { cwd: root, env });
    expect(prefix.stderr).toBe('');
    expect(readFileSync(join(root, 'picked', 'ubuntu.iso')).equals(iso)).toBe(true);
  });
});

describe('a content flooded with fake holders registered first', () => {
  it('still offers the real holder, and the download gets the exact bytes from it', async () => {
    // 64 holders from one machine, registered before the real one, with the real piece-tree root (it is
    // public), each firewalled and never answering a connect-back.
    const { root: movieRoot } = treeOf(movie);
    for (let n = 0; n < 64; n++) {
      fakes.push(await registerFrom('127.0.0.3', trackerAddress(), `fake-holder-${n}`, [{ name: 'movie.mkv', size: movie.length, sha256: sha256(movie), root: movieRoot }]));
    }
    await share('real-movie', { 'movie.mkv': movie });
    const result = await run(PEER_BIN, ['get', 'movie.mkv', '--out', join(root, 'movie'), '--json'], { cwd: root, env });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(root, 'movie', 'movie.mkv')).equals(movie)).toBe(true);
    expect((JSON.parse(result.stdout) as { holders: { holder: string }[] }).holders.map((h) => h.holder)).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
  });
});
