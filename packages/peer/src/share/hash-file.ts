import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import { hashesOfFile } from '../hashing/hash-pool.js';

/** Largest read when hashing; small files get a buffer of their own size, not a megabyte each. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/** What hashing a file yields: its SHA-256, and its piece tree (README#pieces) with the layer kept only when there are several pieces. */
export interface FileHashes {
  sha256: string;
  size: number;
  root: string;
  /** The piece layer, 32 bytes per piece; absent for a file of one piece (its root is its layer). */
  layer?: Buffer;
}


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

export async function hashOpenFile(handle: FileHandle, sizeHint: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const size = await readAll(handle, sizeHint, (chunk) => hash.update(chunk));
  return { sha256: hash.digest('hex'), size };
}

/**
 * SHA-256 and piece tree of an open file of `size` bytes (THREAD_DESCRIBED_BYTES or more) at `path`,
 * read and hashed on hashing threads. Null if the file no longer has that size (it is being written):
 * its hashes would describe nothing that will be served. The caller checks that the file did not change
 * meanwhile.
 */
export async function hashSharedFile(handle: FileHandle, path: string, size: number): Promise<FileHashes | null> {
  // A large file is read and hashed on a hashing thread (both hashes from one read), so large files are
  // hashed on every core at once while this thread goes on with the small ones.
  const hashes = await hashesOfFile(path, size).catch(() => null); // shrank meanwhile: null
  if (!hashes) return null;
  // It was read through the path: the path must still lead to the file this handle has open.
  const [opened, atPath] = await Promise.all([handle.stat(), lstat(path).catch(() => undefined)]);
  if (!atPath || atPath.ino !== opened.ino || atPath.dev !== opened.dev || opened.size !== size) return null;
  const { sha256, root, layer } = hashes;
  return { sha256, size, root, ...(layer.length > 32 && { layer }) };
}

/**
 * Files smaller than this are described whole on a hashing thread (index-folder.ts), opened, checked,
 * read and hashed there; larger ones are opened and checked here and hashed on one or two threads.
 */
export const THREAD_DESCRIBED_BYTES = 4 * 1024 * 1024;

async function readAll(handle: FileHandle, sizeHint: number, onChunk: (chunk: Buffer) => void): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(sizeHint, 1), HASH_CHUNK_BYTES));
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
    if (bytesRead === 0) return size;
    onChunk(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
}
