import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createIdentity, MIN_PIECE_BYTES } from '@p2pservice/protocol';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { indexFolder } from '../src/index.js';
import { describeFile } from '../src/share/index-folder.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { treeOf } from './support.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('p2p-index-');
});
afterEach(() => removeDir(dir));

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('indexing a shared folder', () => {
  // A file of one 16 KiB block or less has its SHA-256 as its piece-tree root (one leaf, no padding).
  it('indexes regular files recursively, empty ones too, with / names, sizes and streamed sha256', async () => {
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    writeFileSync(join(dir, 'a/b/deep.txt'), 'deep');
    writeFileSync(join(dir, 'top.txt'), 'top');
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'ünï 名.txt'), 'u');
    const index = await indexFolder(dir);
    expect(index.entries()).toEqual([
      { name: 'a/b/deep.txt', size: 4, sha256: sha('deep'), root: sha('deep') },
      { name: 'empty', size: 0, sha256: sha(''), root: sha('') },
      { name: 'top.txt', size: 3, sha256: sha('top'), root: sha('top') },
      { name: 'ünï 名.txt', size: 1, sha256: sha('u'), root: sha('u') },
    ]);
    expect(index.find(sha('deep'))?.path).toBe(join(index.root, 'a/b/deep.txt'));
    expect(index.skipped).toEqual([]);
  });

  it('follows no symbolic link, so nothing outside the folder is shared', async () => {
    const outside = tempDir('p2p-outside-');
    writeFileSync(join(outside, 'secret'), 'secret');
    symlinkSync(join(outside, 'secret'), join(dir, 'link-to-file'));
    symlinkSync(outside, join(dir, 'link-to-dir'));
    writeFileSync(join(dir, 'inside'), 'in');
    const index = await indexFolder(dir);
    expect(index.entries().map((e) => e.name)).toEqual(['inside']);
    expect(index.find(sha('secret'))).toBeUndefined();
    expect(index.skipped.map((s) => s.name).sort()).toEqual(['link-to-dir', 'link-to-file']);
    removeDir(outside);
  });

  it('refuses a file whose folder became a link out of the share after the walk, small or large', async () => {
    // The walk saw a folder; by the time the file is read, the folder is a link to somewhere else.
    const outside = tempDir('p2p-outside-');
    writeFileSync(join(outside, 'small'), 'secret');
    writeFileSync(join(outside, 'large'), randomBytes(5 * 1024 * 1024));
    symlinkSync(outside, join(dir, 'swapped'));
    for (const name of ['swapped/small', 'swapped/large']) {
      const statted = lstatSync(join(outside, name.slice('swapped/'.length)));
      expect(await describeFile(dir, name, undefined, statted)).toEqual({ problem: 'lies outside the shared folder' });
    }
    removeDir(outside);
  });

  it('skips files whose names the protocol refuses, saying why', async () => {
    writeFileSync(join(dir, 'line\nbreak'), 'x');
    writeFileSync(join(dir, 'back\\slash'), 'x');
    writeFileSync(join(dir, 'fine'), 'x');
    const index = await indexFolder(dir);
    expect(index.entries().map((e) => e.name)).toEqual(['fine']);
    expect(index.skipped).toEqual(
      expect.arrayContaining([
        { name: 'line\nbreak', reason: 'name contains a control, bidi or invisible character' },
        { name: 'back\\slash', reason: 'name contains a backslash' },
      ]),
    );
  });

  it('refuses a folder over the files-per-share limit with TOO_MANY_FILES', async () => {
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, `f${i}`), '');
    await expect(indexFolder(dir, { maxFiles: 3 })).rejects.toMatchObject({ code: 'TOO_MANY_FILES' });
  });

  it('refuses a path that is not a folder', async () => {
    writeFileSync(join(dir, 'file'), '');
    await expect(indexFolder(join(dir, 'file'))).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('is not a folder') });
    await expect(indexFolder(join(dir, 'missing'))).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('no such file or folder') });
  });

  it("leaves out the program's own .env, config and state folders, and any file holding a private key, saying so", async () => {
    const identity = createIdentity('peer');
    writeFileSync(join(dir, '.env'), 'NETWORK_KEY=UCQ2-FI5E-UWTK-PKFJ-VKV2-ZLNO-V6YL-DMVT-WS23-NN5Y-XG5L-XPF5-X27Q\n', { mode: 0o600 });
    mkdirSync(join(dir, '.config/p2pservice'), { recursive: true });
    writeFileSync(join(dir, '.config/p2pservice/peer-identity.pem'), identity.key + identity.cert, { mode: 0o600 });
    writeFileSync(join(dir, '.config/other-app.conf'), 'fine');
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'state/shown.json'), '{}');
    // A copy of a key under any name, even readable by all.
    writeFileSync(join(dir, 'backup.txt'), identity.key + identity.cert);
    writeFileSync(join(dir, 'notes.txt'), 'a text that mentions -----BEGIN CERTIFICATE----- only');
    const index = await indexFolder(dir, { privatePaths: [join(dir, '.env'), join(dir, '.config/p2pservice'), join(dir, 'state'), join(dir, 'elsewhere')] });
    expect(index.entries().map((e) => e.name)).toEqual(['.config/other-app.conf', 'notes.txt']);
    expect(index.skipped).toEqual(
      expect.arrayContaining([
        { name: '.env', reason: "this peer's own settings, keys or state: never shared" },
        { name: '.config/p2pservice', reason: "this peer's own settings, keys or state: never shared" },
        { name: 'state', reason: "this peer's own settings, keys or state: never shared" },
        { name: 'backup.txt', reason: 'holds a private key (an identity file?): never shared' },
      ]),
    );
    expect(index.skipped).toHaveLength(4);
  });

  it('looks at a small file for a key even when an older hash cache knew it', async () => {
    const cacheRoot = tempDir('p2p-cache-');
    onTestFinished(() => removeDir(cacheRoot));
    const identity = createIdentity('peer');
    writeFileSync(join(dir, 'key.pem'), identity.key);
    writeFileSync(join(dir, 'song.txt'), 'la la');
    const first = await indexFolder(dir, { cacheDir: cacheRoot });
    expect(first.entries().map((e) => e.name)).toEqual(['song.txt']);
    // A cache written before keys were looked for lists the key file without the mark.
    const [cacheFile] = readdirSync(cacheRoot);
    const cache = JSON.parse(readFileSync(join(cacheRoot, cacheFile!), 'utf8'));
    const stats = statSync(join(dir, 'key.pem'));
    cache.files['key.pem'] = { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, sha256: sha(identity.key), root: sha(identity.key) };
    writeFileSync(join(cacheRoot, cacheFile!), JSON.stringify(cache));
    const again = await indexFolder(dir, { cacheDir: cacheRoot });
    expect(again.entries().map((e) => e.name)).toEqual(['song.txt']);
  });

  it('refuses a folder it cannot list, instead of sharing 0 files', async () => {
    // Reachable by anyone, but not listable; as root, permissions bind only with another effective user.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'locked'));
    writeFileSync(join(dir, 'locked/inside.txt'), 'x');
    chmodSync(join(dir, 'locked'), 0o300);
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    try {
      await expect(indexFolder(join(dir, 'locked'))).rejects.toMatchObject({ code: 'BAD_CONFIG', message: `cannot share "${join(dir, 'locked')}": permission denied` });
    } finally {
      if (asRoot) process.seteuid!(0);
      chmodSync(join(dir, 'locked'), 0o700);
    }
  });
});

describe('the hash cache', () => {
  /** `a` in the shared folder, indexed once with a cache of its own: the cache's folder, its file and that index. */
  async function indexedWithCache() {
    const cacheRoot = tempDir('p2p-cache-');
    onTestFinished(() => removeDir(cacheRoot));
    const cacheDir = join(cacheRoot, 'p2pservice');
    writeFileSync(join(dir, 'a'), 'a');
    const first = await indexFolder(dir, { cacheDir });
    return { cacheDir, cacheFile: join(cacheDir, readdirSync(cacheDir)[0]!), first };
  }

  it('lets a re-share of an unchanged folder skip reading the files, and re-hashes what changed', async () => {
    const cacheRoot = tempDir('p2p-cache-');
    onTestFinished(() => removeDir(cacheRoot));
    const cacheDir = join(cacheRoot, 'p2pservice');
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), `content ${i}`);
    const cold = await indexFolder(dir, { cacheDir });
    let hashedBytes = -1;
    const warm = await indexFolder(dir, { cacheDir, onProgress: (p) => (hashedBytes = p.hashedBytes) });
    expect(hashedBytes).toBe(0);
    expect(warm.entries()).toEqual(cold.entries());

    // Rewritten in place with the same size and mtime: ctime still moves, so it is hashed again.
    const { utimesSync, statSync } = await import('node:fs');
    utimesSync(join(dir, 'f3'), 1_700_000_000, 1_700_000_000);
    await indexFolder(dir, { cacheDir });
    writeFileSync(join(dir, 'f3'), 'CONTENT 3');
    utimesSync(join(dir, 'f3'), 1_700_000_000, 1_700_000_000);
    expect(statSync(join(dir, 'f3')).mtimeMs).toBe(1_700_000_000_000);
    const again = await indexFolder(dir, { cacheDir, onProgress: (p) => (hashedBytes = p.hashedBytes) });
    expect(hashedBytes).toBe(9);
    expect(again.entries().find((e) => e.name === 'f3')?.sha256).toBe(sha('CONTENT 3'));
  });

  it('rebuilds a corrupt or foreign cache instead of trusting it, and says so', async () => {
    const { cacheDir, cacheFile } = await indexedWithCache();
    for (const corrupt of ['{not json', JSON.stringify({ version: 2, root: dir, files: { a: { size: 1, mtimeMs: 0, ctimeMs: 0, ino: 0, sha256: 'nothex', root: 'nothex' } } })]) {
      writeFileSync(cacheFile, corrupt);
      const warnings: string[] = [];
      let hashedBytes = 0;
      const index = await indexFolder(dir, { cacheDir, onWarning: (w) => warnings.push(w), onProgress: (p) => (hashedBytes = p.hashedBytes) });
      expect(index.entries()).toEqual([{ name: 'a', size: 1, sha256: sha('a'), root: sha('a') }]);
      expect(hashedBytes).toBe(1);
      expect(warnings).toEqual([expect.stringMatching(/^hash cache .* rebuilding it$/)]);
    }
  });

  it('trusts no cache with any field out of shape (checked by hand: each way it can be wrong is refused)', async () => {
    const { cacheDir, cacheFile: path, first } = await indexedWithCache();
    const good = JSON.parse(readFileSync(path, 'utf8')) as { files: { a: Record<string, unknown> } };
    const entry = good.files.a;
    const wrong: [string, unknown][] = [
      ['an unknown key in an entry', { ...good, files: { a: { ...entry, extra: 1 } } }],
      ['a negative size', { ...good, files: { a: { ...entry, size: -1 } } }],
      ['an inode that is not an integer', { ...good, files: { a: { ...entry, ino: 1.5 } } }],
      ['an mtime that is not a number', { ...good, files: { a: { ...entry, mtimeMs: '0' } } }],
      ['a ctime missing', { ...good, files: { a: { ...entry, ctimeMs: undefined } } }],
      ['a root in upper case', { ...good, files: { a: { ...entry, root: (entry.root as string).toUpperCase() } } }],
      ['a layer that is not base64', { ...good, files: { a: { ...entry, layer: 'not base64!' } } }],
      ['keysChecked other than true', { ...good, files: { a: { ...entry, keysChecked: false } } }],
      ['an entry that is an array', { ...good, files: { a: [] } }],
      ['files as an array', { ...good, files: [entry] }],
      ['an unknown key at the top', { ...good, extra: true }],
      ['no root', { ...good, root: undefined }],
    ];
    for (const [what, cache] of wrong) {
      writeFileSync(path, JSON.stringify(cache));
      const warnings: string[] = [];
      let hashedBytes = 0;
      const index = await indexFolder(dir, { cacheDir, onWarning: (w) => warnings.push(w), onProgress: (p) => (hashedBytes = p.hashedBytes) });
      expect({ what, hashedBytes, warnings }).toEqual({ what, hashedBytes: 1, warnings: [expect.stringMatching(/^hash cache .* rebuilding it$/)] });
      expect(index.entries()).toEqual(first.entries());
    }
  });

  it('hashes again, without a warning, files cached by an older version (which had no piece trees)', async () => {
    const { cacheDir, cacheFile, first } = await indexedWithCache();
    const stats = statSync(join(dir, 'a'));
    const old = { version: 1, root: first.root, files: { a: { size: 1, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino, sha256: sha('a') } } };
    writeFileSync(cacheFile, JSON.stringify(old));
    const warnings: string[] = [];
    let hashedBytes = 0;
    const index = await indexFolder(dir, { cacheDir, onWarning: (w) => warnings.push(w), onProgress: (p) => (hashedBytes = p.hashedBytes) });
    expect(index.entries()).toEqual([{ name: 'a', size: 1, sha256: sha('a'), root: sha('a') }]);
    expect(hashedBytes).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('keeps the piece layer of a file of several pieces in the cache, and does not use one that does not hash up to the root', async () => {
    const cacheRoot = tempDir('p2p-cache-');
    onTestFinished(() => removeDir(cacheRoot));
    const cacheDir = join(cacheRoot, 'p2pservice');
    const bytes = randomBytes(3 * MIN_PIECE_BYTES + 9);
    writeFileSync(join(dir, 'big'), bytes);
    const cold = await indexFolder(dir, { cacheDir });
    const layer = cold.get('big')!.layer!;
    expect(layer.toString('hex')).toBe(treeOf(bytes).hashes);
    let hashedBytes = -1;
    const warm = await indexFolder(dir, { cacheDir, onProgress: (p) => (hashedBytes = p.hashedBytes) });
    expect(hashedBytes).toBe(0);
    expect(warm.get('big')!.layer!.equals(layer)).toBe(true);
    // A damaged layer in the cache: the file is hashed again rather than served with a wrong layer.
    const file = join(cacheDir, readdirSync(cacheDir)[0]!);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { layer: string }> };
    const damaged = Buffer.from(cache.files.big!.layer, 'base64');
    damaged[0]! ^= 1;
    cache.files.big!.layer = damaged.toString('base64');
    writeFileSync(file, JSON.stringify(cache));
    const again = await indexFolder(dir, { cacheDir, onProgress: (p) => (hashedBytes = p.hashedBytes) });
    expect(hashedBytes).toBe(bytes.length);
    expect(again.get('big')!.layer!.equals(layer)).toBe(true);
  });

  it("leaves out its own parts, sidecars and locks, OS and editor litter, and what .p2pignore names", async () => {
    // `album.part` is another program's name (no sha256 before `.part`): only our own working files are left out.
    const keep = ['song.mp3', 'notes/todo.txt', 'photos/beach.jpg', 'album.part'];
    const leaveOut = [
      `movie.bin.${'a'.repeat(12)}.part`,
      `movie.bin.${'a'.repeat(12)}.part.json`,
      `movie.bin.${'a'.repeat(12)}.part.json.tmp`,
      `movie.bin.${'a'.repeat(12)}.part.lock`,
      `notes/doc.pdf.${'0'.repeat(12)}.part.lock.1234.0badc0de`,
      '.DS_Store',
      'photos/Thumbs.db',
      'photos/desktop.ini',
      'notes/~$report.docx',
      'notes/report.txt~',
      'notes/.report.txt.swp',
      'secret/key.txt',
      'draft.tmp',
      'notes/nested.tmp',
      '.p2pignore',
    ];
    for (const name of [...keep, ...leaveOut]) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), name);
    }
    writeFileSync(join(dir, '.p2pignore'), '# not for the network\nsecret/\n*.tmp\n');
    const index = await indexFolder(dir);
    expect(index.entries().map((e) => e.name)).toEqual([...keep].sort());
    expect(index.skipped).toEqual([]);
  });
});

