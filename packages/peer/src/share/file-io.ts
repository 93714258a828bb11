import type { FileHandle } from 'node:fs/promises';

/*
 * Reads from an already-open FileHandle. Node's own handle.createReadStream holds a reference that makes
 * handle.close() wait until the stream closes the handle itself; we keep the handle (we fstat it first),
 * so this reads at explicit positions instead.
 */

export const FILE_CHUNK_BYTES = 512 * 1024;

/**
 * Yields the bytes [start, start + length) of `handle`, a fresh buffer per chunk; stops early at EOF.
 * The next chunk is already being read while the caller sends the current one, so disk and network
 * work overlap instead of taking turns.
 */
export async function* readRange(handle: FileHandle, start: number, length: number, chunkBytes = FILE_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const end = start + length;
  let position = start;
  const readNext = () => {
    if (position >= end) return undefined;
    const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, end - position));
    const at = position;
    position += buffer.length;
    return handle.read(buffer, 0, buffer.length, at).then(({ bytesRead }) => ({ chunk: buffer.subarray(0, bytesRead), short: bytesRead < buffer.length }));
  };
  let pending = readNext();
  try {
    while (pending) {
      const { chunk, short } = await pending;
      // A short read means the file ended early (it shrank): what came is the last of it.
      pending = short ? undefined : readNext();
      if (chunk.length > 0) yield chunk;
    }
  } finally {
    // A read still in flight must finish before the caller may close the handle.
    await pending?.catch(() => undefined);
  }
}
