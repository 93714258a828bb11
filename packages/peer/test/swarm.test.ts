import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HolderSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { download, type DownloadOptions, FileServer, indexFolder } from '../src/index.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { anonymousTls, silentLogger, startTestHolder, startTracker, type TestHolder, type TestHolderOptions, type TestTracker, tlsAs } from './support.js';

const content = randomBytes(6 * 1024 * 1024 + 5);
const sha256 = createHash('sha256').update(content).digest('hex');

let dir: string;
let out: string;
let tracker: TestTracker;
let trackerAddress: { host: string; port: number };
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = tempDir('p2p-swarm-');
  out = join(dir, 'out');
  tracker = await startTracker(join(dir, 'tracker.db'));
  trackerAddress = { host: '127.0.0.1', port: tracker.address.port };
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await tracker.close();
  removeDir(dir);
});

async function holder(options: TestHolderOptions = {}): Promise<TestHolder> {
  const started = await startTestHolder(trackerAddress, 'movie.bin', content, sha256, { chunkBytes: 32 * 1024, chunkDelayMs: 2, ...options });
  cleanups.push(() => started.close());
  return started;
}

const get = (extra: Partial<DownloadOptions> = {}) =>
  download({ tracker: trackerAddress, transport: anonymousTls, name: 'movie.bin', outDir: out, logger: silentLogger, busyWaitMs: 0, stallTimeoutMs: 2_000, ...extra });

function expectOnlyTheFile(): void {
  expect(readFileSync(join(out, 'movie.bin')).equals(content)).toBe(true);
  expect(readdirSync(out)).toEqual(['movie.bin']);
}

describe('a download from several holders at once', () => {
  it('takes pieces from every holder, up to the limit, and says how much came from each', async () => {
    const holders = [await holder(), await holder(), await holder()];
    const result = await get();
    expectOnlyTheFile();
    expect(result.holders.map((h) => h.holder).sort()).toEqual(holders.map((h) => `127.0.0.1:${h.port}`).sort());
    expect(result.holders.reduce((sum, h) => sum + h.bytes, 0)).toBe(content.length);
    expect(result.failed).toEqual([]);
  });

  it('uses no more holders than maxSources', async () => {
    const holders = [await holder(), await holder(), await holder()];
    const result = await get({ maxSources: 1 });
    expectOnlyTheFile();
    expect(result.holders).toHaveLength(1);
    expect(holders.filter((h) => h.fetches.length > 0)).toHaveLength(1);
  });

  it('drops a holder that lies on every piece, names it, and keeps the good pieces of the others', async () => {
    const liar = await holder({ mode: 'wrong-bytes' });
    await holder();
    await holder();
    const result = await get();
    expectOnlyTheFile();
    expect(result.failed).toEqual([expect.objectContaining({ holder: `127.0.0.1:${liar.port}`, lied: true, reason: expect.stringMatching(/^sent piece \d+ with the wrong hash$/) })]);
    // It was asked once, for one run, and dropped at its first bad piece (the pieces before it were good).
    expect(liar.fetches).toHaveLength(1);
  });

  it('leaves out a holder whose piece layer does not hash up to the root it registered', async () => {
    const forger = await holder({ root: 'a'.repeat(64) });
    await holder();
    await holder();
    const result = await get();
    expect(result.failed).toEqual([]);
    expect(forger.fetches).toEqual([]); // the majority's tree came first; the forger was never needed
    expectOnlyTheFile();
  });

  it('names a lone holder whose tree does not match, and keeps nothing', async () => {
    const forger = await holder({ root: 'a'.repeat(64) });
    const error = await get().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'HOLDER_FAILED', message: expect.stringContaining(`127.0.0.1:${forger.port}: sent a piece layer that does not hash up to the listed root`) });
    expect(forger.fetches).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('throws away a tree whose pieces all check but whose whole is other bytes, names its holders, and uses the next tree', async () => {
    const other = randomBytes(content.length);
    const impostor = await startTestHolder(trackerAddress, 'movie.bin', other, sha256);
    cleanups.push(() => impostor.close());
    const alone = await get().then(() => undefined, (e: unknown) => e);
    expect(alone).toMatchObject({ code: 'HOLDER_FAILED', message: expect.stringContaining(`127.0.0.1:${impostor.port}: registered a piece tree of other bytes than the listed sha256`) });
    expect(readdirSync(out)).toEqual([]);
    await holder();
    const result = await get();
    expectOnlyTheFile();
    expect(result.failed.map((f) => f.holder)).toEqual(result.failed.length ? [`127.0.0.1:${impostor.port}`] : []);
  });

  it('lets a fast holder take over the end of a slow one\'s run, so the slow one does not hold the download up', async () => {
    const slow = await holder({ chunkDelayMs: 40 });
    const fast = await holder({ chunkDelayMs: 0 });
    const result = await get();
    expectOnlyTheFile();
    expect(result.holders[0]!.holder).toBe(`127.0.0.1:${fast.port}`);
    expect(result.holders[0]!.bytes).toBeGreaterThan(content.length / 2);
    expect(slow.fetches.length).toBeGreaterThan(0);
  });
});

describe('the upload rate limit', () => {
  it('sends no faster than PEER_MAX_UPLOAD_RATE, to all downloaders together', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    writeFileSync(join(shared, 'big.bin'), content.subarray(0, 2 * 1024 * 1024));
    const index = await indexFolder(shared, { cacheDir: null });
    const rate = 4 * 1024 * 1024;
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, transport: tlsAs('peer'), index, logger: silentLogger, maxUploadRate: rate });
    try {
      const address = { host: '127.0.0.1', port: server.address.port };
      const started = performance.now();
      await Promise.all(
        [0, 1].map(async (half) => {
          const session = await HolderSession.open(address);
          const { body } = await session.fetch(index.files[0]!.sha256, half * 1024 * 1024, 1024 * 1024);
          for await (const _ of body);
          await session.close();
        }),
      );
      // 2 MiB at 4 MiB/s, less the 100 ms an idle holder may send ahead: 400 ms (less a timer's slack).
      expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    } finally {
      await server.close();
    }
  });
});
