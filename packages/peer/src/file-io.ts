import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/*
 * Streams over an already-open FileHandle. Node's own handle.createReadStream/createWriteStream hold a
 * reference that makes handle.close() wait until the stream closes the handle itself; we keep the handle
 * (to fstat it first, or to retry into it), so these read and write at explicit positions instead.
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

/** A Writable that writes into `handle` from `start` on, leaving the handle open when it finishes. */
export class HandleWriter extends Writable {
  private position: number;

  constructor(
    private readonly handle: FileHandle,
    start: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.position = start;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll(chunk).then(() => callback(), callback);
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.position);
      offset += bytesWritten;
      this.position += bytesWritten;
    }
  }
}
