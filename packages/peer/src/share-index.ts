import { createHash } from 'node:crypto';
import { constants, lstat as lstatCallback } from 'node:fs';
import { promisify } from 'node:util';
import type { Stats } from 'node:fs';
import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { type FileEntry, MAX_FILES_PER_SHARE, P2PError, quoted, sharedNameProblem } from '@p2pservice/protocol';
import { defaultCacheDir, type FileIdentity, HashCache, sameIdentity } from './hash-cache.js';

/** A file this peer shares: what the network sees (name, size, sha256) and where and what it is on disk. */
export interface IndexedFile extends FileEntry, FileIdentity {
  path: string;
}

export interface SkippedFile {
  name: string;
  reason: string;
}

export interface IndexProgress {
  files: number;
  bytes: number;
  /** Bytes actually read and hashed (the rest came from the hash cache). */
  hashedBytes: number;
}

export interface IndexOptions {
  maxFiles?: number;
  onProgress?: (progress: IndexProgress) => void;
  /** Folder of the hash cache; `null` for none. Default: `$XDG_CACHE_HOME/p2pservice`. */
  cacheDir?: string | null;
  /** Called with one line for each problem worth telling the user (e.g. a corrupt cache). */
  onWarning?: (line: string) => void;
}

/** The shared files of one folder, looked up by content: a holder serves by sha256, never by a path. */
export class ShareIndex {
  private readonly byName = new Map<string, IndexedFile>();
  /** Names sharing each content: every fetch looks content up by hash, so this must not be a scan. */
  private readonly bySha256 = new Map<string, Set<string>>();
  /** Changes since the index was built (by the folder watcher or re-hashes). */
  changes = 0;

  constructor(
    readonly root: string,
    files: readonly IndexedFile[],
    readonly skipped: readonly SkippedFile[],
    /** The hash cache this index was built with, to keep using and saving while the folder changes. */
    readonly cache?: HashCache,
  ) {
    for (const file of files) this.put(file);
  }

  get files(): IndexedFile[] {
    return [...this.byName.values()];
  }

  get totalBytes(): number {
    let sum = 0;
    for (const file of this.byName.values()) sum += file.size;
    return sum;
  }

  /** A file with this content, if any is shared. */
  find(sha256: string): IndexedFile | undefined {
    const names = this.bySha256.get(sha256);
    if (!names) return undefined;
    for (const name of names) return this.byName.get(name);
    return undefined;
  }

  get(name: string): IndexedFile | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** Names of the entries at `path` or below it (`''`: all of them). */
  namesUnder(path: string): string[] {
    if (path === '') return [...this.byName.keys()];
    const prefix = `${path}/`;
    return [...this.byName.keys()].filter((name) => name === path || name.startsWith(prefix));
  }

  /** Replaces (or, with `undefined`, removes) the entry for `name`. */
  update(name: string, file: IndexedFile | undefined): void {
    this.changes++;
    this.remove(name);
    if (file) this.put(file);
  }

  private put(file: IndexedFile): void {
    this.byName.set(file.name, file);
    let names = this.bySha256.get(file.sha256);
    if (!names) this.bySha256.set(file.sha256, (names = new Set()));
    names.add(file.name);
  }

  private remove(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    const names = this.bySha256.get(old.sha256);
    names?.delete(name);
    if (names?.size === 0) this.bySha256.delete(old.sha256);
  }

  entries(): FileEntry[] {
    return this.files.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
  }
}

/** Largest read when hashing; small files get a buffer of their own size, not a megabyte each. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/** SHA-256 of a file, read in chunks (never whole in memory), never through a symlink. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { sha256, size } = await hashOpenFile(handle, (await handle.stat()).size);
    return { sha256, size };
  } finally {
    await handle.close();
  }
}

async function hashOpenFile(handle: FileHandle, sizeHint: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(sizeHint, 1), HASH_CHUNK_BYTES));
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { sha256: hash.digest('hex'), size };
}

export function identityOf(stats: Stats): FileIdentity {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

/**
 * Hashes one file of a share and describes it, or says why it cannot be shared. The file must be a
 * regular file (not a symlink) whose real path lies inside `root`, and must not change while it is read.
 */
export async function describeFile(
  root: string,
  name: string,
  cache?: HashCache,
): Promise<{ file: IndexedFile; hashed: boolean } | { problem: string; unstable?: true }> {
  // Names are '/'-separated and validated (no '.', '..' or empty segments), so this is the file's path.
  const path = `${root}${sep}${name}`;
  let before: Stats;
  try {
    before = await lstatFast(path);
  } catch (error) {
    return { problem: describeFsError(error) };
  }
  if (!before.isFile()) return { problem: before.isSymbolicLink() ? 'symbolic links are not followed' : 'not a regular file' };
  const identity = identityOf(before);
  // Unchanged since it was last hashed (same inode, so the same file inside the share): no read at all.
  const cached = cache?.lookup(name, identity);
  if (cached) return { file: { name, path, sha256: cached, ...identity }, hashed: false };
  let handle: FileHandle | undefined;
  try {
    if (!isInside(root, await realpath(path))) return { problem: 'lies outside the shared folder' };
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const opened = identityOf(await handle.stat());
    if (!sameIdentity(identity, opened)) return { problem: 'changed while being hashed; try again when it is complete', unstable: true };
    const { sha256 } = await hashOpenFile(handle, identity.size);
    // Changed while being read (still being written): its hash describes nothing that will be served.
    if (!sameIdentity(identity, identityOf(await handle.stat()))) {
      return { problem: 'changed while being hashed; try again when it is complete', unstable: true };
    }
    return { file: { name, path, sha256, ...identity }, hashed: true };
  } catch (error) {
    return { problem: describeFsError(error) };
  } finally {
    await handle?.close();
  }
}

// The callback form of lstat costs less than half of fs/promises' per call, which shows at 100 000 files.
const lstatFast = promisify(lstatCallback);

/** Files described at once while indexing: the work is waiting on the disk, not on the CPU. */
const INDEX_CONCURRENCY = 16;

export function isInside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Indexes `dir` recursively: every regular file (empty ones too), named by its path relative to `dir`
 * with `/` separators, sized and hashed by streaming (or taken from the hash cache when unchanged).
 * Symbolic links are not followed, so nothing outside the folder is ever shared; names the protocol
 * refuses are skipped and reported.
 */
export async function indexFolder(dir: string, options: IndexOptions = {}): Promise<ShareIndex> {
  const maxFiles = options.maxFiles ?? MAX_FILES_PER_SHARE;
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new P2PError('BAD_CONFIG', `${quoted(dir)} is not a folder`, 'pass a folder to share');
  } catch (error) {
    if (error instanceof P2PError) throw error;
    throw new P2PError('BAD_CONFIG', `cannot share ${quoted(dir)}: ${describeFsError(error)}`, 'pass an existing folder');
  }
  const found: string[] = [];
  const skipped: SkippedFile[] = [];
  await walk(root, '', found, skipped, maxFiles);
  found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const cache = cacheDir === null ? undefined : await HashCache.open(cacheDir, root);
  if (cache?.problem) options.onWarning?.(cache.problem);
  const described: (IndexedFile | undefined)[] = new Array(found.length);
  const progress: IndexProgress = { files: 0, bytes: 0, hashedBytes: 0 };
  let next = 0;
  let hashedFiles = 0;
  const worker = async () => {
    while (next < found.length) {
      const at = next++;
      const name = found[at]!;
      const result = await describeFile(root, name, cache);
      if ('problem' in result) {
        skipped.push({ name, reason: result.problem });
        continue;
      }
      described[at] = result.file;
      progress.files++;
      progress.bytes += result.file.size;
      if (result.hashed) {
        hashedFiles++;
        progress.hashedBytes += result.file.size;
      }
      options.onProgress?.(progress);
    }
  };
  await Promise.all(Array.from({ length: INDEX_CONCURRENCY }, worker));
  const files = described.filter((file): file is IndexedFile => file !== undefined);
  skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // An unchanged folder leaves the cache as it was: nothing to write.
  const changed = hashedFiles > 0 || cache?.size !== files.length;
  const saveProblem = changed ? await cache?.save(files) : undefined;
  if (saveProblem) options.onWarning?.(saveProblem);
  return new ShareIndex(root, files, skipped, cache);
}

/** Collects the names of the regular files under `dir` (named from `prefix`), not following symlinks. */
export async function walk(dir: string, prefix: string, found: string[], skipped: SkippedFile[], maxFiles: number): Promise<void> {
  let entries;
  try {
    // One readdir per folder: iterating an opendir handle entry by entry costs several times more.
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    skipped.push({ name: prefix || '.', reason: describeFsError(error) });
    return;
  }
  for (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      await walk(join(dir, entry.name), name, found, skipped, maxFiles);
    } else if (entry.isFile()) {
      const problem = sharedNameProblem(name);
      if (problem) {
        skipped.push({ name, reason: `name ${problem}` });
        continue;
      }
      if (found.length >= maxFiles) {
        throw new P2PError('TOO_MANY_FILES', `folder has more than ${maxFiles} files`, 'share a smaller folder or raise MAX_FILES_PER_SHARE');
      }
      found.push(name);
    } else if (entry.isSymbolicLink()) {
      skipped.push({ name, reason: 'symbolic links are not followed' });
    }
  }
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'is a folder';
    default:
      return (error as Error).message;
  }
}
