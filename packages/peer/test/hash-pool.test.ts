import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIN_PIECE_BYTES } from '@p2pservice/protocol';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { treeOf } from './support.js';

/*
 * The hashing threads run from the build (dist), in a process of their own here: what matters is that
 * they give the right hashes and never keep a program from exiting once the work is done.
 */

let dir: string;
beforeEach(() => {
  dir = tempDir('p2p-hash-pool-');
});
afterEach(() => removeDir(dir));

const POOL = new URL('../dist/hashing/hash-pool.js', import.meta.url).href;

function runScript(source: string): { status: number | null; stdout: string; stderr: string } {
  const script = join(dir, 'script.mjs');
  writeFileSync(script, source);
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the hashing threads', () => {
  it('hash files of several pieces like the library does, and let the process exit on its own', () => {
    const files = [randomBytes(5 * MIN_PIECE_BYTES + 3), randomBytes(9 * MIN_PIECE_BYTES)].map((bytes, i) => {
      const path = join(dir, `f${i}`);
      writeFileSync(path, bytes);
      return { path, bytes };
    });
    const result = runScript(`
      const { hashesOfFile, FileHashSession } = await import(${JSON.stringify(POOL)});
      const files = ${JSON.stringify(files.map((f) => ({ path: f.path, size: f.bytes.length })))};
      const out = await Promise.all(files.map((f) => hashesOfFile(f.path, f.size)));
      const session = new FileHashSession(files[0].path);
      session.add(0, 1000);
      session.add(1000, files[0].size - 1000);
      const whole = await session.digest();
      session.close();
      console.log(JSON.stringify({ out: out.map((o) => ({ sha256: o.sha256, root: o.root, layer: o.layer.toString('hex') })), whole }));
    `);
    expect(result.status, result.stderr).toBe(0); // a thread left holding the process would time out here
    const { out, whole } = JSON.parse(result.stdout) as { out: { sha256: string; root: string; layer: string }[]; whole: string };
    files.forEach((file, i) => {
      expect(out[i]!.sha256).toBe(createHash('sha256').update(file.bytes).digest('hex'));
      expect(out[i]!.root).toBe(treeOf(file.bytes).root);
      expect(out[i]!.layer).toBe(treeOf(file.bytes).hashes);
    });
    expect(whole).toBe(createHash('sha256').update(files[0]!.bytes).digest('hex'));
  });

  it('fails a whole-file hash whose ranges run past the end of the file, and still exits', () => {
    const path = join(dir, 'short');
    writeFileSync(path, 'short');
    const result = runScript(`
      const { FileHashSession } = await import(${JSON.stringify(POOL)});
      const session = new FileHashSession(${JSON.stringify(path)});
      session.add(0, 100);
      const outcome = await session.digest().then(() => 'digest', (error) => 'error: ' + error.message);
      session.close();
      console.log(outcome);
    `);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^error: the file ended at 5 bytes, before 100$/);
  });

  it('checks arriving pieces in shared memory, and takes those that check into the whole-file hash without reading them back', () => {
    const content = randomBytes(6 * MIN_PIECE_BYTES);
    // On disk, the first two pieces are wrong: a digest that is right proves they came from memory.
    const onDisk = Buffer.from(content);
    onDisk.fill(0, 0, 2 * MIN_PIECE_BYTES);
    const path = join(dir, 'part');
    writeFileSync(path, onDisk);
    const layer = treeOf(content).hashes;
    const result = runScript(`
      const { FileHashSession } = await import(${JSON.stringify(POOL)});
      const { readFileSync } = await import('node:fs');
      const content = Buffer.from(${JSON.stringify(content.toString('base64'))}, 'base64');
      const hex = ${JSON.stringify(layer)};
      const layer = Array.from({ length: hex.length / 64 }, (_, i) => Buffer.from(hex.slice(i * 64, i * 64 + 64), 'hex'));
      const shared = (bytes) => { const view = Buffer.from(new SharedArrayBuffer(bytes.length)); bytes.copy(view); return view; };
      const session = new FileHashSession(${JSON.stringify(path)}, { size: content.length, layer });
      const first = await session.checkPieces(shared(content.subarray(0, ${2 * MIN_PIECE_BYTES})), 0);
      const lie = Buffer.from(content.subarray(${2 * MIN_PIECE_BYTES}, ${3 * MIN_PIECE_BYTES}));
      lie[7] ^= 1;
      const lied = await session.checkPieces(shared(lie), ${2 * MIN_PIECE_BYTES});
      for (let piece = 0; piece < 6; piece++) session.add(piece * ${MIN_PIECE_BYTES}, ${MIN_PIECE_BYTES});
      const whole = await session.digest();
      const copied = await session.checkPieces(Buffer.from(content), 0).then(() => 'checked', (error) => error.message);
      session.close();
      console.log(JSON.stringify({ first, lied, whole, copied }));
    `);
    expect(result.status, result.stderr).toBe(0);
    const { first, lied, whole, copied } = JSON.parse(result.stdout) as { first: boolean[]; lied: boolean[]; whole: string; copied: string };
    expect(first).toEqual([true, true]);
    expect(lied).toEqual([false]);
    expect(whole).toBe(createHash('sha256').update(content).digest('hex'));
    expect(copied).toBe('pieces are checked in shared memory');
  });

  it('hashes a large file on two threads at once, one hash each, with the same result', () => {
    const bytes = randomBytes(65 * 1024 * 1024);
    const path = join(dir, 'large');
    writeFileSync(path, bytes);
    const result = runScript(`
      const { hashesOfFile } = await import(${JSON.stringify(POOL)});
      const { sha256, root, layer } = await hashesOfFile(${JSON.stringify(path)}, ${bytes.length});
      console.log(JSON.stringify({ sha256, root, layer: layer.toString('hex') }));
    `);
    expect(result.status, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { sha256: string; root: string; layer: string };
    expect(out.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(out.root).toBe(treeOf(bytes).root);
    expect(out.layer).toBe(treeOf(bytes).hashes);
  });
});
