import type { FileHandle } from 'node:fs/promises';

/*
 * Reads from an already-open FileHandle. Node's own handle.createReadStream holds a reference that makes
 * handle.close() wait until the stream closes the handle itself; we keep the handle (we fstat it first),
 * so this reads at explicit positions instead.
 */

export const FILE_CHUNK_BYTES = 512 * 1024;

/** Read buffers an upload keeps for reuse: about as many as are in flight at once (read, queued, sent). */
const POOLED_BUFFERS = 8;

/**
 * Read buffers handed back once their bytes were sent, for the next reads. A fresh 512 KiB buffer per
 * read made V8 run a full collection every few hundred megabytes on a holder (the buffers live outside
 * its heap, and their growth is what triggers it): a fifth of an upload's CPU time.
 */
export class ReadBuffers {
  private readonly free: Buffer[] = [];

  constructor(readonly chunkBytes = FILE_CHUNK_BYTES) {}

  take(length: number): Buffer {
    if (length !== this.chunkBytes) return Buffer.allocUnsafe(length);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  /** `buffer` is no longer used by anyone (its bytes are written out): it may be read into again. */
  give(buffer: Buffer): void {
    if (buffer.buffer.byteLength === this.chunkBytes && buffer.byteOffset === 0 && this.free.length < POOLED_BUFFERS) {
      this.free.push(Buffer.from(buffer.buffer, 0, this.chunkBytes));
    }
  }
}

/**
 * Yields the bytes [start, start + length) of `handle`, one chunk at a time; stops early at EOF. The
 * next chunk is already being read while the caller sends the current one, so disk and network work
 * overlap instead of taking turns. Chunks come from `buffers`: each one yielded belongs to the caller
 * until it gives it back.
 */
export async function* readRange(handle: FileHandle, start: number, length: number, buffers = new ReadBuffers()): AsyncGenerator<Buffer> {
  const end = start + length;
  let position = start;
  const readNext = () => {
    if (position >= end) return undefined;
    const buffer = buffers.take(Math.min(buffers.chunkBytes, end - position));
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
