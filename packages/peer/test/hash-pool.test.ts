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
});
