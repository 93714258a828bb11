import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrackerServer } from '@p2pservice/tracker';
import { download, ShareSession } from '../src/index.js';
import { removeDir, tempDir } from '../../../test/support/processes.js';
import { type Misbehaviour, silentLogger, startLyingHolder, startTracker } from './support.js';

const content = randomBytes(3 * 1024 * 1024 + 17);
const sha256 = createHash('sha256').update(content).digest('hex');

let dir: string;
let tracker: TrackerServer;
let trackerAddress: { host: string; port: number };
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = tempDir('p2p-download-');
  tracker = await startTracker(join(dir, 'tracker.db'));
  trackerAddress = { host: '127.0.0.1', port: tracker.address.port };
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await tracker.close();
  removeDir(dir);
});

async function honestHolder(): Promise<ShareSession> {
  const shared = join(dir, 'honest');
  mkdirSync(shared, { recursive: true });
  writeFileSync(join(shared, 'file.bin'), content);
  const session = await ShareSession.start({ dir: shared, tracker: trackerAddress, host: '127.0.0.1', port: 0, logger: silentLogger });
  cleanups.push(() => session.stop());
  return session;
}

async function liar(mode: Misbehaviour) {
  const holder = await startLyingHolder(trackerAddress, 'file.bin', content, sha256, mode);
  cleanups.push(() => holder.close());
  return holder;
}

const get = (out: string, busyWaitMs?: number) =>
  download({ tracker: trackerAddress, name: 'file.bin', outDir: out, logger: silentLogger, ...(busyWaitMs !== undefined && { busyWaitMs }) });

describe('a download yields the listed content or nothing', () => {
  it.each<Misbehaviour>(['wrong-bytes', 'fewer-bytes', 'more-bytes', 'close-half-way', 'not-found', 'busy'])(
    'fails over from a holder that answers %s to an honest one',
    async (mode) => {
      const bad = await liar(mode);
      await honestHolder();
      const out = join(dir, 'out');
      // Holders are tried in random order: repeat until the liar has been tried first at least once.
      for (let attempt = 0; attempt < 30 && bad.fetches.length === 0; attempt++) {
        removeDir(out);
        const result = await get(out, 0);
        expect(result.sha256).toBe(sha256);
        expect(readFileSync(join(out, 'file.bin')).equals(content)).toBe(true);
        expect(readdirSync(out)).toEqual(['file.bin']);
      }
      expect(bad.fetches.length).toBeGreaterThan(0);
    },
  );

  it.each<Misbehaviour>(['wrong-bytes', 'fewer-bytes', 'more-bytes', 'close-half-way', 'not-found'])(
    'fails cleanly, with no file left, when the only holder answers %s',
    async (mode) => {
      await liar(mode);
      const out = join(dir, 'out');
      await expect(get(out)).rejects.toMatchObject({ code: 'HOLDER_FAILED', message: expect.stringMatching(/^every holder of "file.bin" failed — 127\.0\.0\.1:\d+: /) });
      expect(readdirSync(out)).toEqual([]);
    },
  );

  it('waits for a busy holder up to the limit, then says it stayed busy', async () => {
    const busy = await liar('busy');
    const out = join(dir, 'out');
    await expect(get(out, 300)).rejects.toThrow(/still busy after 0 s/);
    expect(busy.fetches.length).toBeGreaterThan(1);
    expect(readdirSync(out)).toEqual([]);
  });
});
