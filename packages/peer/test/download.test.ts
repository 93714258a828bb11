import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, isWireErrorCode, MIN_PIECE_BYTES, PieceGeometry } from '@p2pservice/protocol';
import { download, type DownloadOptions, type HolderFailure, partPaths } from '../src/index.js';
import { HolderPool } from '../src/network/holder-pool.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { anonymousTls, type HolderMode, silentLogger, startTestHolder, startTracker, type TestHolder, type TestHolderOptions, type TestTracker, treeOf } from './support.js';
import { eventually } from '@p2pservice/test-support/wait';

const content = randomBytes(3 * 1024 * 1024 + 17);
const sha256 = createHash('sha256').update(content).digest('hex');

let dir: string;
let out: string;
let tracker: TestTracker;
let trackerAddress: { host: string; port: number };
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = tempDir('p2p-download-');
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
  const started = await startTestHolder(trackerAddress, 'file.bin', content, sha256, options);
  cleanups.push(() => started.close());
  return started;
}

const get = (extra: Partial<DownloadOptions> = {}) =>
  download({ tracker: trackerAddress, transport: anonymousTls, name: 'file.bin', outDir: out, logger: silentLogger, busyWaitMs: 0, stallTimeoutMs: 400, ...extra });

const part = () => partPaths(join(out, 'file.bin'), sha256);

/** The pieces the sidecar lists as verified; each must hold the content's bytes at its offset. */
function expectKeptPiecesRight(): number[] {
  const meta = JSON.parse(readFileSync(part().meta, 'utf8')) as { verified: string };
  const bits = Buffer.from(meta.verified, 'base64');
  const geometry = new PieceGeometry(content.length);
  const kept = readFileSync(part().part);
  const pieces = Array.from({ length: geometry.pieceCount }, (_, i) => i).filter((i) => (bits[i >> 3]! >> (i & 7)) & 1);
  for (const piece of pieces) {
    const at = geometry.offsetOf(piece);
    expect(kept.subarray(at, at + geometry.lengthOf(piece)).equals(content.subarray(at, at + geometry.lengthOf(piece))), `piece ${piece}`).toBe(true);
  }
  return pieces;
}

function expectOnlyTheFile(): void {
  expect(readFileSync(join(out, 'file.bin')).equals(content)).toBe(true);
  expect(readdirSync(out)).toEqual(['file.bin']);
}

describe('a name that is legal on the network but not on this disk', () => {
  it('is saved under a safe local name, said once, and recognised again by its content', async () => {
    const name = 'CON: live?.bin';
    const started = await startTestHolder(trackerAddress, name, content, sha256);
    cleanups.push(() => started.close());
    const renamed: string[] = [];
    const onRenamed = (from: string, to: string, why: string) => renamed.push(`${from} -> ${to}: ${why}`);
    const first = await get({ name, platform: 'win32', onRenamed });
    expect(first.path).toBe(join(out, 'CON_ live_.bin'));
    expect(readFileSync(first.path).equals(content)).toBe(true);
    expect(renamed).toEqual([`${name} -> CON_ live_.bin: Windows refuses < > : " | ? * in file names`]);
    // The same download again finds the file it saved: nothing is fetched.
    const again = await get({ name, platform: 'win32', onRenamed });
    expect(again.holder).toBeNull();
    expect(again.path).toBe(first.path);
  });
});

describe('a download yields the listed content or nothing at the final name', () => {
  it.each<HolderMode>(['wrong-bytes', 'fewer-bytes', 'more-bytes', 'close-half-way', 'stall-half-way', 'not-found', 'busy'])(
    'fails over from a holder that answers %s to an honest one',
    async (mode) => {
      const bad = await holder({ mode });
      const good = await holder();
      // Holders are tried in random order: repeat until the bad one has been tried first at least once.
      for (let attempt = 0; attempt < 40 && bad.fetches.length === 0; attempt++) {
        removeDir(out);
        const result = await get();
        expect(result.sha256).toBe(sha256);
        expectOnlyTheFile();
      }
      expect(bad.fetches.length).toBeGreaterThan(0);
      expect(good.fetches.length).toBeGreaterThan(0);
    },
  );

  it.each<HolderMode | 'never-connects-back'>(['wrong-bytes', 'close-half-way', 'stall-half-way', 'never-connects-back'])(
    'fails over from a firewalled holder (connect-back) that answers %s to an honest one',
    async (mode) => {
      const bad = await holder({ firewalled: true, ...(mode !== 'never-connects-back' && { mode }) });
      bad.connectsBack = mode !== 'never-connects-back';
      const good = await holder({ identity: 'good' });
      const failures: HolderFailure[] = [];
      for (let attempt = 0; attempt < 40 && failures.length === 0 && bad.fetches.length === 0; attempt++) {
        removeDir(out);
        const result = await get({ onHolderFailed: (failure) => failures.push(failure) });
        expect(result.sha256).toBe(sha256);
        expectOnlyTheFile();
      }
      if (mode === 'never-connects-back') {
        expect(failures).toEqual([expect.objectContaining({ holder: `127.0.0.1:${bad.port}`, reason: expect.stringMatching(/did not connect back within 400 ms/) })]);
      } else {
        // It was reached through connect-back and asked for pieces; what it sent was checked like any holder's.
        expect(bad.fetches.length).toBeGreaterThan(0);
        if (mode === 'wrong-bytes') expect(failures).toEqual([expect.objectContaining({ holder: `127.0.0.1:${bad.port}`, lied: true })]);
      }
      expect(good.fetches.length).toBeGreaterThan(0);
    },
  );

  // Whatever pieces arrived before the holder failed were verified one by one and are kept (the holders
  // that fail before sending a byte leave nothing); wrong-bytes flips a byte in the middle of each range.
  it.each<[HolderMode, RegExp, 'kept' | 'nothing' | 'either']>([
    ['wrong-bytes', /sent piece \d+ with the wrong hash/, 'kept'],
    ['fewer-bytes', /connection closed after \d+ of \d+ bytes/, 'kept'],
    ['more-bytes', /announced a different range than the one asked for/, 'nothing'],
    ['close-half-way', /connection closed after \d+ of \d+ bytes/, 'either'],
    ['stall-half-way', /stalled: no data for 400 ms/, 'kept'],
    ['not-found', /test holder says not-found/, 'nothing'],
  ])('fails with one line per holder when the only holder answers %s, keeping only a resumable part', async (mode, reason, keeps) => {
    const bad = await holder({ mode });
    const error = await get().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'HOLDER_FAILED' });
    const lines = (error as Error).message.split('\n');
    const kept = /^every holder of "file\.bin" failed \(\d+ of 3145745 bytes are kept in .*\.part; run the same command later to resume\):$/;
    const nothing = /^every holder of "file\.bin" failed \(try again later, or check `peer list`\):$/;
    if (keeps !== 'either') expect(lines[0]).toMatch(keeps === 'kept' ? kept : nothing);
    expect(lines[1]).toMatch(new RegExp(`^  127\\.0\\.0\\.1:${bad.port}: ${reason.source}`));
    expect(existsSync(join(out, 'file.bin'))).toBe(false);
    const left = readdirSync(out).sort();
    if (kept.test(lines[0]!)) {
      expect(left).toEqual([`file.bin.${sha256.slice(0, 12)}.part`, `file.bin.${sha256.slice(0, 12)}.part.json`]);
      expectKeptPiecesRight();
    } else {
      expect(left).toEqual([]);
    }
  });

  it('waits for a busy holder up to the limit, then says it stayed busy', async () => {
    const busy = await holder({ mode: 'busy' });
    await expect(get({ busyWaitMs: 300 })).rejects.toThrow(/: still busy, no upload slot came free/);
    expect(busy.fetches.length).toBeGreaterThan(1);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('an error from a holder is that holder failing, never ours', () => {
  // Every code of both tables (local-only ones a holder should never send), and one of no table.
  it.each([...Object.keys(ERROR_CODES), 'NO_SUCH_CODE'])('fails over from a holder that answers %s to an honest one', async (code) => {
    const liar = await holder({ mode: 'error', errorCode: code });
    // The honest holder shares the same bytes under another name: it is found only after the liar failed.
    const honest = await startTestHolder(trackerAddress, 'archive/copy.bin', content, sha256);
    cleanups.push(() => honest.close());
    const failures: HolderFailure[] = [];
    const result = await get({ onHolderFailed: (failure) => failures.push(failure) });
    expect(result).toMatchObject({ sha256, holder: `127.0.0.1:${honest.port}` });
    expectOnlyTheFile();
    expect(liar.fetches).toEqual([0]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.holder).toBe(`127.0.0.1:${liar.port}`);
    if (isWireErrorCode(code)) {
      expect(failures[0]!.code).toBe(code);
    } else {
      // A code no holder may send makes the frame invalid: the holder broke the protocol.
      expect(failures[0]).toMatchObject({ code: 'BAD_MESSAGE', reason: expect.stringContaining('is not a code of the wire error table') });
    }
  });

  it('names the holder and what it said when it was the only one', async () => {
    const liar = await holder({ mode: 'error', errorCode: 'IO_ERROR' });
    const error = await get().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'HOLDER_FAILED' });
    expect((error as Error).message.split('\n')[1]).toBe(`  127.0.0.1:${liar.port}: invalid message: code: is not a code of the wire error table`);
    expect(existsSync(join(out, 'file.bin'))).toBe(false);
  });
});

describe('a holder is who the tracker says', () => {
  it('fails over from a holder that presents another certificate than the one it registered with', async () => {
    const swapper = await holder();
    const honest = await startTestHolder(trackerAddress, 'archive/copy.bin', content, sha256, { identity: 'honest' });
    cleanups.push(() => honest.close());
    await swapper.presentAs('impostor');
    const failures: HolderFailure[] = [];
    const result = await get({ onHolderFailed: (failure) => failures.push(failure) });
    expect(result.holder).toBe(`127.0.0.1:${honest.port}`);
    expectOnlyTheFile();
    expect(failures).toEqual([
      {
        holder: `127.0.0.1:${swapper.port}`,
        code: 'IDENTITY_MISMATCH',
        reason: expect.stringMatching(new RegExp(`^holder 127\\.0\\.0\\.1:${swapper.port} presented identity [A-Z2-7-]+, not the ${swapper.id} the tracker listed: this may be an impostor$`)),
        lied: false,
      },
    ]);
    // Refused during the TLS handshake: it never got to hear what was wanted.
    expect(swapper.fetches).toEqual([]);
  });
});

describe('resume', () => {
  it('keeps the verified pieces when interrupted, and fetches only the others on the next run', async () => {
    const slow = await holder({ chunkDelayMs: 5, chunkBytes: 32 * 1024 });
    const abort = new AbortController();
    const first = get({ signal: abort.signal });
    await eventually(() => slow.sent() > 768 * 1024);
    abort.abort();
    await expect(first).rejects.toMatchObject({ code: 'INTERRUPTED', message: expect.stringMatching(/bytes are kept in .*\.part$/) });
    expect(existsSync(join(out, 'file.bin'))).toBe(false);
    expect(existsSync(part().lock)).toBe(false);
    const pieces = expectKeptPiecesRight();
    expect(pieces.length).toBeGreaterThan(0);

    const sentBefore = slow.sent();
    const result = await get();
    expect(result.sha256).toBe(sha256);
    const geometry = new PieceGeometry(content.length);
    const keptBytes = pieces.reduce((sum, piece) => sum + geometry.lengthOf(piece), 0);
    expect(slow.sent() - sentBefore).toBe(content.length - keptBytes);
    expectOnlyTheFile();
  });

  it('continues from another holder when one of those sending dies mid-transfer', async () => {
    const a = await holder({ chunkDelayMs: 5, chunkBytes: 32 * 1024 });
    const b = await holder({ chunkDelayMs: 5, chunkBytes: 32 * 1024 });
    const failures: HolderFailure[] = [];
    const pending = get({ onHolderFailed: (f) => failures.push(f) });
    await eventually(() => a.sent() > 256 * 1024 && b.sent() > 256 * 1024);
    await a.kill();
    const result = await pending;
    expectOnlyTheFile();
    expect(result.holders.map((h) => h.holder)).toContain(`127.0.0.1:${b.port}`);
    expect(failures.map((f) => [f.holder, f.lied])).toEqual([[`127.0.0.1:${a.port}`, false]]);
  });

  it('asks the tracker again when every known holder failed, and finds one that came online meanwhile', async () => {
    const a = await holder({ chunkDelayMs: 5, chunkBytes: 32 * 1024 });
    const pending = get();
    await eventually(() => a.sent() > 256 * 1024);
    const b = await holder();
    await a.kill();
    await pending;
    expectOnlyTheFile();
    expect(b.fetches[0]).toBeGreaterThan(0);
  });

  it('fails over to a peer that shares the same content under another name', async () => {
    const a = await holder({ chunkDelayMs: 5, chunkBytes: 32 * 1024 });
    const elsewhere = await startTestHolder(trackerAddress, 'archive/renamed.bin', content, sha256);
    cleanups.push(() => elsewhere.close());
    const pending = get();
    await eventually(() => a.sent() > 256 * 1024);
    await a.kill();
    await pending;
    expectOnlyTheFile();
    expect(elsewhere.fetches.length).toBeGreaterThan(0);
    expect(elsewhere.fetches[0]).toBeGreaterThan(0);
  });

  it('checks every piece the sidecar lists against the tree before trusting it, and fetches a bad one again', async () => {
    mkdirSync(out, { recursive: true });
    const left = Buffer.from(content.subarray(0, 3 * MIN_PIECE_BYTES));
    left[MIN_PIECE_BYTES + 500]! ^= 0xff; // piece 1 rotted on disk
    writeFileSync(part().part, left);
    const good = await holder();
    writeFileSync(part().meta, JSON.stringify({ version: 2, sha256, size: content.length, root: treeOf(content).root, verified: Buffer.from([0b111]).toString('base64') }));
    await get();
    expect(good.fetches[0]).toBe(MIN_PIECE_BYTES);
    expect(good.sent()).toBe(content.length - 2 * MIN_PIECE_BYTES);
    expectOnlyTheFile();
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '{ truncated'],
    ['about other content', JSON.stringify({ version: 2, sha256: 'f'.repeat(64), size: 5, root: 'f'.repeat(64), verified: 'Pw==' })],
    ['of the old prefix format', JSON.stringify({ version: 1, sha256, size: 0 })],
  ])('with a sidecar that is %s, verifies every piece on disk instead of trusting any', async (_case, meta) => {
    mkdirSync(out, { recursive: true });
    const left = Buffer.from(content.subarray(0, 2 * MIN_PIECE_BYTES));
    left[100]! ^= 0xff; // piece 0 is wrong, piece 1 right
    writeFileSync(part().part, left);
    if (meta !== undefined) writeFileSync(part().meta, meta);
    const good = await holder();
    await get();
    expect(good.fetches[0]).toBe(0);
    expect(good.sent()).toBe(content.length - MIN_PIECE_BYTES);
    expectOnlyTheFile();
  });

  it('takes over the lock of a download whose process died, and removes the aside files dead processes left', async () => {
    mkdirSync(out, { recursive: true });
    writeFileSync(part().part, content.subarray(0, MIN_PIECE_BYTES));
    writeFileSync(part().lock, '999999999');
    // Killed between writing its lock aside and removing it: this file's, and another file's.
    writeFileSync(`${part().lock}.999999999.0badc0de`, '999999999 0123456789ab');
    writeFileSync(join(out, 'other.bin.0123456789ab.part.lock.999999999.0badc0de'), '999999999 0123456789ab');
    // A live process's aside (this one's pid) and a file that only looks like an aside are left alone.
    const live = `other.bin.0123456789ab.part.lock.${process.pid}.0badc0de`;
    writeFileSync(join(out, live), `${process.pid} 0123456789ab`);
    writeFileSync(join(out, 'notes.lock.999999999.0badc0de'), 'mine');
    const good = await holder();
    await get();
    expect(good.fetches[0]).toBe(MIN_PIECE_BYTES);
    expect(readFileSync(join(out, 'file.bin')).equals(content)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['file.bin', 'notes.lock.999999999.0badc0de', live].sort());
  });

  it('asks again on a new connection when a kept one was let go by the holder, and counts no failure', async () => {
    const good = await holder();
    const pool = new HolderPool();
    cleanups.push(async () => pool.close());
    const first = await get({ holderPool: pool });
    expect(first.failed).toEqual([]);
    // Kept for the next download; the holder lets it go, and the close has not reached us yet.
    good.letGoOpenConnections();
    const again = await get({ holderPool: pool, outDir: join(dir, 'again') });
    expect(again.failed).toEqual([]);
    expect(readFileSync(join(dir, 'again', 'file.bin')).equals(content)).toBe(true);
    // A one-piece file asks for its bytes first (no piece layer): the same there.
    const small = randomBytes(1000);
    const smallHolder = await startTestHolder(trackerAddress, 'small.bin', small, createHash('sha256').update(small).digest('hex'), { identity: 'small' });
    cleanups.push(() => smallHolder.close());
    for (const [n, letGo] of [[1, false], [2, true]] as const) {
      if (letGo) smallHolder.letGoOpenConnections();
      const saved = await get({ holderPool: pool, name: 'small.bin', outDir: join(dir, `small-${n}`) });
      expect(saved.failed).toEqual([]);
      expect(readFileSync(join(dir, `small-${n}`, 'small.bin')).equals(small)).toBe(true);
    }
  });

  it('never follows a symlink planted at the part name', async () => {
    mkdirSync(out, { recursive: true });
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    const { symlinkSync } = await import('node:fs');
    symlinkSync(victim, part().part);
    await holder();
    await get();
    expectOnlyTheFile();
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });
});
