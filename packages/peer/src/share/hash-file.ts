import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

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

export async function hashOpenFile(handle: FileHandle, sizeHint: number): Promise<{ sha256: string; size: number }> {
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
