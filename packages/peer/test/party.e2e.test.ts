import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';
import { startTestHolder } from './support.js';

/*
 * A LAN party with the built CLIs: one `peer share` whose upload is limited, several `peer get` of the same
 * file started together, each in its own folder (its own identity). Downloaders serve the pieces they have
 * verified to each other, so the seed sends each piece about once.
 */

const SIZE = 8 * 1024 * 1024 + 12_345;
const content = randomBytes(SIZE);
const sha256 = createHash('sha256').update(content).digest('hex');
/** The seed's upload: 2 MB/s, so that one downloader alone takes about four seconds. */
const SEED_RATE = '2M';

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let env: NodeJS.ProcessEnv;

interface GetResult {
  path: string;
  sha256: string;
  holders: { holder: string; bytes: number }[];
  failed: { holder: string; code: string; reason: string; lied?: boolean }[];
}

beforeAll(async () => {
  root = tempDir('p2p-party-');
  mkdirSync(join(root, 'tracker'));
  tracker = await startTrackerCli(join(root, 'tracker'));
  env = cleanEnv({ PEER_TRACKER: tracker.address });
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

/** A `peer share` of the party file with its upload limited; resolves with its port once it is listed. */
async function startSeed(name: string): Promise<Running & { port: number }> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'shared', 'party.bin'), content);
  const seed = start(PEER_BIN, ['share', 'shared'], { cwd: dir, env: { ...env, PEER_MAX_UPLOAD_RATE: SEED_RATE } });
  const port = Number(/on port (\d+)/.exec(await seed.waitFor(/on port \d+/))![1]);
  return Object.assign(seed, { port });
}

/** `peer get party.bin --json` in a folder (and so an identity) of its own. */
async function get(name: string, extraEnv: Record<string, string> = {}): Promise<GetResult> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const result = await run(PEER_BIN, ['get', 'party.bin', '--json'], { cwd: dir, env: { ...env, ...extraEnv }, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  const parsed = JSON.parse(result.stdout) as GetResult;
  expect(createHash('sha256').update(readFileSync(join(dir, parsed.path))).digest('hex')).toBe(sha256);
  if (process.env.SHOW_PARTY) console.log(name, Date.now() - started, 'ms', JSON.stringify({ holders: parsed.holders, failed: parsed.failed }));
  return parsed;
}

const bytesFrom = (results: GetResult[], port: number) =>
  results.flatMap((r) => r.holders).filter((h) => h.holder.endsWith(`:${port}`)).reduce((sum, h) => sum + h.bytes, 0);

describe('a LAN party', () => {
  it('four downloaders and one rate-limited seed: all byte-identical, and the seed sends less than twice the file', async () => {
    const seed = await startSeed('seed');
    if (process.env.SHOW_PARTY) await get('alone');
    const results = await Promise.all([1, 2, 3, 4].map((i) => get(`party-${i}`)));
    const fromSeed = bytesFrom(results, seed.port);
    const fromOthers = results.flatMap((r) => r.holders).reduce((sum, h) => sum + h.bytes, 0) - fromSeed;
    expect(fromSeed).toBeLessThan(2 * SIZE);
    expect(fromSeed + fromOthers).toBe(4 * SIZE);
    await seed.stop();
  }, 90_000);

  it('a partial holder that lies about its pieces is left out, and the download is whole', async () => {
    const seed = await startSeed('seed-2');
    const liar = await startTestHolder({ host: '127.0.0.1', port: tracker.port }, 'party.bin', content, sha256, { partial: true, mode: 'wrong-bytes', identity: 'liar' });
    try {
      const results = await Promise.all([1, 2].map((i) => get(`liar-${i}`)));
      for (const result of results) {
        expect(result.failed).toContainEqual(expect.objectContaining({ holder: `127.0.0.1:${liar.port}`, lied: true }));
      }
      expect(liar.fetches.length).toBeGreaterThan(0);
    } finally {
      await liar.close();
      await seed.stop();
    }
  }, 90_000);

  it('a downloader killed mid-way while others fetch from it: the others finish, byte-identical', async () => {
    const seed = await startSeed('seed-3');
    const firstDir = join(root, 'killed');
    mkdirSync(firstDir);
    const first = start(PEER_BIN, ['get', 'party.bin'], { cwd: firstDir, env: { ...env, LOG_LEVEL: 'debug' } });
    try {
      // It has pieces to serve once a run ended; the others start then, and fetch from it.
      await first.waitFor(/"run ended"/, 20_000);
      const others = Promise.all([1, 2].map((i) => get(`after-kill-${i}`)));
      await first.waitFor(/"upload started"/, 20_000);
      await first.stop('SIGKILL');
      // Each finishes, and its file is checked byte for byte (get): what the killed one had is fetched elsewhere.
      const results = await others;
      expect(results.flatMap((r) => r.failed).filter((f) => f.lied)).toEqual([]);
    } finally {
      await first.stop('SIGKILL');
      await seed.stop();
    }
  }, 90_000);

  it('peer get --seed keeps serving the finished file, found by name, until Ctrl-C', async () => {
    const seed = await startSeed('seed-4');
    const seederDir = join(root, 'seeder');
    mkdirSync(seederDir);
    const seeder = start(PEER_BIN, ['get', 'party.bin', '--seed'], { cwd: seederDir, env });
    await seeder.waitFor(/^seeding .*party\.bin to others who download it; press Ctrl-C to stop$/, 30_000);
    // The first holder leaves: only the seeding downloader has the file now.
    await seed.stop();
    const result = await get('from-seeder');
    expect(result.holders).toHaveLength(1);
    expect(result.holders[0]!.holder).not.toBe(`127.0.0.1:${seed.port}`);
    // A file that is here already was not downloaded, so it is not seeded: the line says how to serve it.
    const again = await run(PEER_BIN, ['get', 'party.bin', '--seed'], { cwd: seederDir, env });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^peer: not seeding: party\.bin was here already; to serve it, share its folder: peer share \.$/m);
    const { code } = await seeder.stop('SIGINT');
    expect(code).toBe(0);
    expect(seeder.stderr).toContain('stopped seeding');
  }, 90_000);
});
