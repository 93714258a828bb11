import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileEntry, MAX_FILES_PER_SHARE, P2PError, sharedNameProblem } from '@p2pservice/protocol';

/** A file this peer shares: what the network sees (name, size, sha256) and where it lives. */
export interface IndexedFile extends FileEntry {
  path: string;
  mtimeMs: number;
  ino: number;
}

export interface SkippedFile {
  name: string;
  reason: string;
}

export interface IndexProgress {
  files: number;
  bytes: number;
}

export interface IndexOptions {
  maxFiles?: number;
  onProgress?: (progress: IndexProgress) => void;
}

/** The shared files of one folder, looked up by content: a holder serves by sha256, never by a path. */
export class ShareIndex {
  private readonly bySha256 = new Map<string, IndexedFile>();

  constructor(
    readonly root: string,
    readonly files: readonly IndexedFile[],
    readonly skipped: readonly SkippedFile[],
  ) {
    for (const file of files) if (!this.bySha256.has(file.sha256)) this.bySha256.set(file.sha256, file);
  }

  get totalBytes(): number {
    return this.files.reduce((sum, file) => sum + file.size, 0);
  }

  find(sha256: string): IndexedFile | undefined {
    return this.bySha256.get(sha256);
  }

  entries(): FileEntry[] {
    return this.files.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
  }
}

/** SHA-256 of a file, read as a stream (never whole in memory). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Indexes `dir` recursively: every regular file (empty ones too), named by its path relative to `dir`
 * with `/` separators, sized and hashed by streaming. Symbolic links are not followed, so nothing
 * outside the folder is ever shared; names the protocol refuses are skipped and reported.
 */
export async function indexFolder(dir: string, options: IndexOptions = {}): Promise<ShareIndex> {
  const maxFiles = options.maxFiles ?? MAX_FILES_PER_SHARE;
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new P2PError('BAD_CONFIG', `"${dir}" is not a folder`, 'pass a folder to share');
  } catch (error) {
    if (error instanceof P2PError) throw error;
    throw new P2PError('BAD_CONFIG', `cannot share "${dir}": ${describeFsError(error)}`, 'pass an existing folder');
  }
  const found: { name: string; path: string }[] = [];
  const skipped: SkippedFile[] = [];
  await walk(root, '', found, skipped, maxFiles);
  found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const files: IndexedFile[] = [];
  const progress: IndexProgress = { files: 0, bytes: 0 };
  for (const { name, path } of found) {
    try {
      const before = await stat(path);
      const { sha256, size } = await hashFile(path);
      files.push({ name, path, size, sha256, mtimeMs: before.mtimeMs, ino: before.ino });
      progress.files++;
      progress.bytes += size;
      options.onProgress?.(progress);
    } catch (error) {
      skipped.push({ name, reason: describeFsError(error) });
    }
  }
  return new ShareIndex(root, files, skipped);
}

async function walk(dir: string, prefix: string, found: { name: string; path: string }[], skipped: SkippedFile[], maxFiles: number): Promise<void> {
  let entries;
  try {
    entries = await opendir(dir);
  } catch (error) {
    skipped.push({ name: prefix || '.', reason: describeFsError(error) });
    return;
  }
  for await (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(path, name, found, skipped, maxFiles);
    } else if (entry.isFile()) {
      const problem = sharedNameProblem(name);
      if (problem) {
        skipped.push({ name, reason: `name ${problem}` });
        continue;
      }
      if (found.length >= maxFiles) {
        throw new P2PError('TOO_MANY_FILES', `folder has more than ${maxFiles} files`, 'share a smaller folder or raise MAX_FILES_PER_SHARE');
      }
      found.push({ name, path });
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
