import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_PIECE_BYTES } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_NAMES } from '@p2pservice/test-support/hostile-names';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, start, tempDir } from '@p2pservice/test-support/processes';
import { killTerminals, startOnTerminal } from '@p2pservice/test-support/terminal';
import { eventually } from '@p2pservice/test-support/wait';
import { startTestHolder, startTracker, type TestHolder, type TestTracker } from './support.js';

/*
 * The built `peer get` as a child process against a tracker and a test holder that records the offset
 * of every fetch: kills, Ctrl-C, a full disk and hostile names.
 */

const content = randomBytes(4 * 1024 * 1024 + 99);
const sha256 = createHash('sha256').update(content).digest('hex');

let root: string;
let tracker: TestTracker;
let env: NodeJS.ProcessEnv;
let holder: TestHolder;

beforeAll(async () => {
  root = tempDir('p2p-resume-');
  tracker = await startTracker(join(root, 'tracker.db'));
  // These count a lone download's fetches: a download offered to others (PEER_SERVE_DOWNLOADS, on by default)
  // starts with short runs, so that a LAN party shares soon (party.e2e.test.ts).
  env = cleanEnv({ PEER_TRACKER: `127.0.0.1:${tracker.address.port}`, PEER_SERVE_DOWNLOADS: 'off' });
  holder = await startTestHolder({ host: '127.0.0.1', port: tracker.address.port }, 'big.bin', content, sha256);
});
afterAll(async () => {
  killTerminals();
  await killAll();
  await holder.close();
  await tracker.close();
  removeDir(root);
});

const partOf = (out: string) => join(out, `big.bin.${sha256.slice(0, 12)}.part`);

/** The pieces the part's sidecar lists as verified. */
function listedPieces(out: string): number[] {
  try {
    const meta = JSON.parse(readFileSync(`${partOf(out)}.json`, 'utf8')) as { verified: string };
    const bits = Buffer.from(meta.verified, 'base64');
    return Array.from({ length: bits.length * 8 }, (_, i) => i).filter((i) => (bits[i >> 3]! >> (i & 7)) & 1);
  } catch {
    return [];
  }
}

/** Starts a slow `peer get` and resolves once its sidecar lists two verified pieces. */
async function slowGetInFlight(out: string) {
  holder.chunkDelayMs = 10;
  holder.chunkBytes = 32 * 1024;
  const fetchesBefore = holder.fetches.length;
  const get = start(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
  await eventually(() => listedPieces(out).length >= 2, 10_000).catch(() => {
    throw new Error(`no progress; stderr: ${get.stderr.join('\n')}`);
  });
  expect(holder.fetches.length).toBe(fetchesBefore + 1);
  return get;
}

describe('peer get survives being stopped', () => {
  it('killed with SIGKILL mid-transfer: no file at the final name, and the rerun fetches only the pieces not yet listed', async () => {
    const out = join(root, 'killed');
    const fetchesBefore = holder.fetches.length;
    const get = await slowGetInFlight(out);
    await get.stop('SIGKILL');
    expect(existsSync(join(out, 'big.bin'))).toBe(false);
    const listed = listedPieces(out);
    // One holder: pieces come in order, so those listed are the first ones.
    expect(listed).toEqual(Array.from({ length: listed.length }, (_, i) => i));
    expect(holder.fetches[fetchesBefore]).toBe(0);

    holder.chunkDelayMs = 0;
    const rerunFrom = holder.fetches.length;
    const rerun = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(holder.fetches[rerunFrom]).toBe(listed.length * MIN_PIECE_BYTES);
    expect(readFileSync(join(out, 'big.bin')).equals(content)).toBe(true);
    expect(readdirSync(out)).toEqual(['big.bin']);
  });

  it('interrupted with Ctrl-C: exit 130, one line saying what is kept, and the rerun resumes', async () => {
    const out = join(root, 'interrupted');
    const get = await slowGetInFlight(out);
    expect(await get.stop('SIGINT')).toEqual({ code: 130, signal: null });
    expect(get.stderr).toHaveLength(1);
    expect(get.stderr[0]).toMatch(/^peer: interrupted; \d+ of 4194403 bytes are kept in .*big\.bin\.[0-9a-f]{12}\.part \(run the same command again to resume\)$/);
    expect(readdirSync(out).sort()).toEqual([`big.bin.${sha256.slice(0, 12)}.part`, `big.bin.${sha256.slice(0, 12)}.part.json`]);

    holder.chunkDelayMs = 0;
    const rerun = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(holder.fetches.at(-1)).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'big.bin')).equals(content)).toBe(true);
    expect(readdirSync(out)).toEqual(['big.bin']);
  });
});

/** A 1 MiB tmpfs where the machine allows mounting one (root, or a user namespace). */
function mountSmallTmpfs(path: string): boolean {
  mkdirSync(path, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path]).status === 0;
}

describe('disk trouble', () => {
  it('a full disk (ENOSPC) is one line naming the path; the part is kept and nothing is at the final name', async (context) => {
    const out = join(root, 'small-disk');
    if (!mountSmallTmpfs(out)) {
      // Without a mountable tmpfs, ENOSPC cannot be produced honestly; as root, permissions do not bind.
      context.skip();
      return;
    }
    try {
      holder.chunkDelayMs = 0;
      const result = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`peer: cannot write ${partOf(out)}: no space left on the device (check the folder, its permissions and free space)\n`);
      expect(existsSync(join(out, 'big.bin'))).toBe(false);
      expect(statSync(partOf(out)).size).toBeGreaterThan(0);
      expect(existsSync(`${partOf(out)}.lock`)).toBe(false);
    } finally {
      spawnSync('umount', [out]);
    }
  });
});

describe('Ctrl-C typed on a terminal', () => {
  it('stops peer get within moments, with the same line, exit code and cleanup as SIGINT in a pipe', async () => {
    const out = join(root, 'typed');
    holder.chunkDelayMs = 10;
    holder.chunkBytes = 32 * 1024;
    const get = startOnTerminal(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
    // The progress line is up: the spinner owns the terminal now.
    await get.waitFor(/big\.bin: [\d.]+ (KiB|MiB) \/ 4\.0 MiB/);
    const typedAt = Date.now();
    get.type('\x03');
    expect(await get.exited).toBe(130);
    expect(Date.now() - typedAt).toBeLessThan(2_000); // a bound on the wait, not a benchmark
    expect(get.output()).toMatch(/peer: interrupted; \d+ of 4194403 bytes are kept in .*big\.bin\.[0-9a-f]{12}\.part \(run the same command again to resume\)/);
    expect(get.output()).not.toContain('saved ');
    expect(readdirSync(out).sort()).toEqual([`big.bin.${sha256.slice(0, 12)}.part`, `big.bin.${sha256.slice(0, 12)}.part.json`]);
  });
});

describe('a full disk before the first byte', () => {
  it('is the coded disk error naming the path (it was "unexpected error: ENOSPC" from the sidecar)', async (context) => {
    const out = join(root, 'full-disk');
    if (!mountSmallTmpfs(out)) return context.skip();
    try {
      // Fill the disk but one page: room for the lock, not for the first bytes of the part written next.
      spawnSync('dd', ['if=/dev/zero', `of=${join(out, 'filler')}`, 'bs=4096', 'count=255']);
      const result = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`(^|\n)peer: cannot write ${partOf(out).replaceAll('.', '\\.')}: no space left on the device \\(check the folder, its permissions and free space\\)\n$`));
      expect(existsSync(join(out, 'big.bin'))).toBe(false);
      expect(existsSync(`${partOf(out)}.lock`)).toBe(false);
    } finally {
      spawnSync('umount', [out]);
    }
  });
});

describe('links planted at the names a download will write', () => {
  it('are never written through: the files they point at keep their bytes', async () => {
    const out = join(root, 'planted');
    mkdirSync(out);
    const victims = ['victim-sidecar', 'victim-temporary'].map((name) => join(root, name));
    for (const victim of victims) writeFileSync(victim, 'precious');
    // The names are public: the content's sha256 is on the list.
    symlinkSync(victims[0]!, `${partOf(out)}.json`);
    symlinkSync(victims[1]!, `${partOf(out)}.json.tmp`);
    holder.chunkDelayMs = 0;
    const result = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(join(out, 'big.bin')).equals(content)).toBe(true);
    for (const victim of victims) expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  it("a sidecar's temporary left by a process killed while writing it is removed by the next download, never followed", async () => {
    const out = join(root, 'leftovers');
    mkdirSync(out);
    const victim = join(root, 'victim-leftover');
    writeFileSync(victim, 'precious');
    // What a killed download leaves: its part (here with nothing verified), and temporaries of its sidecar.
    writeFileSync(partOf(out), Buffer.alloc(1000));
    symlinkSync(victim, `${partOf(out)}.json.deadbeef.tmp`);
    writeFileSync(`${partOf(out)}.json.0badcafe.tmp`, 'a killed writer left this');
    holder.chunkDelayMs = 0;
    const result = await run(PEER_BIN, ['get', 'big.bin', '--out', out], { cwd: root, env });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(join(out, 'big.bin')).equals(content)).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readdirSync(out)).toEqual(['big.bin']);
  });
});

describe('hostile names on the command line', () => {
  it('are all refused as usage errors, and nothing is created', async () => {
    const cwd = join(root, 'hostile');
    mkdirSync(cwd);
    // execve cannot pass a NUL byte in an argument; those names are covered by the library tests.
    // A name ending in "/" asks for a folder: those are checked below.
    const names = HOSTILE_NAMES.filter((name) => !name.includes('\u0000') && name.isWellFormed() && !name.endsWith('/'));
    expect(names.length).toBeGreaterThanOrEqual(30);
    const results = await Promise.all(names.map((name) => run(PEER_BIN, ['get', name, '--out', join(cwd, 'out')], { cwd, env })));
    results.forEach((result, i) => {
      expect(result.code, JSON.stringify(names[i])).toBe(2);
      expect(result.stderr.trim().split('\n'), JSON.stringify(names[i])).toHaveLength(1);
      expect(result.stderr).toMatch(/^peer: ".*" is not a valid file name: it /s);
    });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('as folders too: refused before anything is asked or made', async () => {
    const cwd = join(root, 'hostile-folders');
    mkdirSync(cwd);
    const folders = ['/', '../', '../secret/', 'a/../../b/', '/etc/', 'C:/Windows/', 'escape\u001b[2J/', 'a//b/'];
    const results = await Promise.all(folders.map((name) => run(PEER_BIN, ['get', name, '--out', join(cwd, 'out')], { cwd, env })));
    results.forEach((result, i) => {
      expect(result.code, JSON.stringify(folders[i])).toBe(2);
      expect(result.stderr.trim().split('\n'), JSON.stringify(folders[i])).toHaveLength(1);
      expect(result.stderr, JSON.stringify(folders[i])).toMatch(folders[i] === '/' ? /^peer: no folder named / : /^peer: ".*" is not a valid folder name: it /s);
    });
    expect(readdirSync(cwd)).toEqual([]);
  });
});
