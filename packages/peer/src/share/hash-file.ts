import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { PieceGeometry, TreeHasher } from '@p2pservice/protocol';

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
 * SHA-256 and piece tree of an open file of `size` bytes, in one read. Null if the file no longer has
 * that size (it is being written): its hashes would describe nothing that will be served.
 */
export async function hashSharedFile(handle: FileHandle, size: number): Promise<FileHashes | null> {
  const hash = createHash('sha256');
  const tree = new TreeHasher(new PieceGeometry(size));
  let overflow = false;
  const read = await readAll(handle, size, (chunk) => {
    hash.update(chunk);
    if (!overflow) {
      try {
        tree.update(chunk);
      } catch {
        overflow = true; // grew while read: caught by the size check below
      }
    }
  });
  if (read !== size || overflow) return null;
  const { root, layer } = tree.digest();
  return { sha256: hash.digest('hex'), size, root: root.toString('hex'), ...(layer.length > 1 && { layer: Buffer.concat(layer) }) };
}

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
