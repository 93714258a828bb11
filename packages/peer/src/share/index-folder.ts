import { constants, lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { type FileHandle, open, realpath, readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { MAX_FILES_PER_SHARE, P2PError, quoted, sharedNameProblem } from '@p2pservice/protocol';
import { describeFsError } from '../util/fs-errors.js';
import { type FileIdentity, identityOf, isInside, sameIdentity } from '../util/file-checks.js';
import { HashCache } from './hash-cache.js';
import { hashSharedFile, THREAD_DESCRIBED_BYTES } from './hash-file.js';
import { describeOnThread } from '../hashing/hash-pool.js';
import { PRIVATE_REASON, ShareFilter } from './share-filter.js';
import { type IndexedFile, ShareIndex, type SkippedFile } from './share-index.js';
import { PEER_SETTINGS } from '../settings/table.js';

export interface IndexProgress {
  files: number;
  bytes: number;
  /** Bytes actually read and hashed (the rest came from the hash cache). */
  hashedBytes: number;
}

export interface IndexOptions {
  maxFiles?: number;
  onProgress?: (progress: IndexProgress) => void;
  /** Folder of the hash cache (see `defaultCacheDir`); none by default. */
  cacheDir?: string | null;
  /** Called with one line for each problem worth telling the user (e.g. a corrupt cache). */
  onWarning?: (line: string) => void;
  /** The program's own files and folders (its .env, config, state and cache folders): never shared. */
  privatePaths?: readonly string[];
}

/**
 * Hashes one file of a share and describes it, or says why it cannot be shared. The file must be a
 * regular file (not a symlink) whose real path lies inside `root`, and must not change while it is read.
 */
export async function describeFile(
  root: string,
  name: string,
  cache: HashCache | undefined,
  /** The file's lstat, taken by the caller (lstatInSlices), or why that failed. */
  statted: Stats | Error,
): Promise<{ file: IndexedFile; hashed: boolean } | { problem: string; unstable?: true }> {
  // Names are '/'-separated and validated (no '.', '..' or empty segments), so this is the file's path.
  const path = `${root}${sep}${name}`;
  if (statted instanceof Error) return { problem: describeFsError(statted) };
  const before = statted;
  if (!before.isFile()) return { problem: before.isSymbolicLink() ? 'symbolic links are not followed' : 'not a regular file' };
  const identity = identityOf(before);
  // Unchanged since it was last hashed (same inode, so the same file inside the share): no read at all.
  const cached = cache?.lookup(name, identity);
  if (cached) return { file: { name, path, ...cached, ...identity }, hashed: false };
  if (identity.size < THREAD_DESCRIBED_BYTES) return describeSmallFile(root, name, path, identity);
  let handle: FileHandle | undefined;
  try {
    if (!isInside(root, await realpath(path))) return { problem: 'lies outside the shared folder' };
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const opened = identityOf(await handle.stat());
    if (!sameIdentity(identity, opened)) return { problem: 'changed while being hashed; try again when it is complete', unstable: true };
    const hashes = await hashSharedFile(handle, path, identity.size);
    // Changed while being read (still being written): its hashes describe nothing that will be served.
    if (!hashes || !sameIdentity(identity, identityOf(await handle.stat()))) {
      return { problem: 'changed while being hashed; try again when it is complete', unstable: true };
    }
    // Larger than any key file (PRIVATE_KEY_SNIFF_BYTES): not looked at for one.
    const { sha256, root: treeRoot, layer } = hashes;
    return { file: { name, path, sha256, root: treeRoot, ...(layer && { layer }), ...identity }, hashed: true };
  } catch (error) {
    return { problem: describeFsError(error) };
  } finally {
    await handle?.close();
  }
}

/** describeFile of a small file: all of it on a hashing thread (hash-worker.ts `describe`). */
async function describeSmallFile(root: string, name: string, path: string, identity: FileIdentity): Promise<{ file: IndexedFile; hashed: boolean } | { problem: string; unstable?: true }> {
  let described;
  try {
    described = await describeOnThread(path, root, identity);
  } catch (error) {
    return { problem: describeFsError(error) };
  }
  if ('refused' in described) {
    return described.refused === 'outside' ? { problem: 'lies outside the shared folder' } : { problem: 'changed while being hashed; try again when it is complete', unstable: true };
  }
  // An identity file (ours or anyone's), whatever its name: a private key is never shared.
  if (described.privateKey) return { problem: 'holds a private key (an identity file?): never shared' };
  const layer = described.layer.length > 32 ? Buffer.from(described.layer.buffer, described.layer.byteOffset, described.layer.byteLength) : undefined;
  return { file: { name, path, sha256: described.sha256, root: described.root, ...(layer && { layer }), ...identity }, hashed: true };
}

/** How long one synchronous run of lstat calls may hold the event loop (lstatInSlices). */
const LSTAT_SLICE_MS = 5;

/**
 * The lstat of each of `names` under `root`, taken synchronously a few milliseconds at a time with the
 * event loop running in between. Through the thread pool, each call cost this thread 10 µs (callbacks,
 * Stats and Date objects), 1.1 s for a re-share of 100 000 unchanged files; synchronously, 2.5 µs.
 */
export async function lstatInSlices(root: string, names: readonly string[]): Promise<(Stats | Error)[]> {
  const stats: (Stats | Error)[] = new Array(names.length);
  let at = 0;
  while (at < names.length) {
    const until = performance.now() + LSTAT_SLICE_MS;
    do {
      try {
        stats[at] = lstatSync(`${root}${sep}${names[at]}`);
      } catch (error) {
        stats[at] = error as Error;
      }
      at++;
    } while (at < names.length && performance.now() < until);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return stats;
}

/** Files described at once while indexing: the work is waiting on the disk, not on the CPU. */
const INDEX_CONCURRENCY = 16;

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
  const privatePaths = options.privatePaths ?? [];
  await walk(root, '', found, skipped, maxFiles, await ShareFilter.of(root, privatePaths));
  // A folder whose own listing cannot be read is not an empty share: say so, and share nothing.
  const unreadable = skipped.find((entry) => entry.name === '.');
  if (unreadable) throw new P2PError('BAD_CONFIG', `cannot share ${quoted(dir)}: ${unreadable.reason}`, 'check the folder and its permissions');
  found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const cache = options.cacheDir ? await HashCache.open(options.cacheDir, root) : undefined;
  if (cache?.problem) options.onWarning?.(cache.problem);
  const statted = await lstatInSlices(root, found);
  const described: (IndexedFile | undefined)[] = new Array(found.length);
  const progress: IndexProgress = { files: 0, bytes: 0, hashedBytes: 0 };
  let next = 0;
  let hashedFiles = 0;
  const worker = async () => {
    while (next < found.length) {
      const at = next++;
      const name = found[at]!;
      const result = await describeFile(root, name, cache, statted[at]!);
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
  return new ShareIndex(root, files, skipped, cache, privatePaths);
}

/**
 * Collects the names of the regular files under `dir` (named from `prefix`), not following symlinks,
 * and leaving out what `filter` excludes (without a word: it was asked for).
 */
export async function walk(dir: string, prefix: string, found: string[], skipped: SkippedFile[], maxFiles: number, filter: ShareFilter): Promise<void> {
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
    if (filter.isPrivate(name)) {
      skipped.push({ name, reason: PRIVATE_REASON });
      continue;
    }
    if (filter.excludes(name, entry.isDirectory())) continue;
    if (entry.isDirectory()) {
      await walk(join(dir, entry.name), name, found, skipped, maxFiles, filter);
    } else if (entry.isFile()) {
      const problem = sharedNameProblem(name);
      if (problem) {
        skipped.push({ name, reason: `name ${problem}` });
        continue;
      }
      if (found.length >= maxFiles) {
        throw new P2PError('TOO_MANY_FILES', `folder has more than ${maxFiles} files`, `share a smaller folder or raise ${PEER_SETTINGS.maxFiles.env}`);
      }
      found.push(name);
    } else if (entry.isSymbolicLink()) {
      skipped.push({ name, reason: 'symbolic links are not followed' });
    }
  }
}
