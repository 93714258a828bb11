import type { FileHandle } from 'node:fs/promises';

/*
 * Reads from an already-open FileHandle. Node's own handle.createReadStream holds a reference that makes
 * handle.close() wait until the stream closes the handle itself; we keep the handle (we fstat it first),
 * so this reads at explicit positions instead.
 */

export const FILE_CHUNK_BYTES = 256 * 1024;

/** Yields the bytes [start, start + length) of `handle`, a fresh buffer per chunk; stops early at EOF. */
export async function* readRange(handle: FileHandle, start: number, length: number, chunkBytes = FILE_CHUNK_BYTES): AsyncGenerator<Buffer> {
  let position = start;
  const end = start + length;
  while (position < end) {
    const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, end - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  }
}
