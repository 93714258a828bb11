import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { type Content, FileSize, P2PError, Sha256Hex } from '@p2pservice/protocol';
import { z } from 'zod';
import { ioError } from '../fs-errors.js';
import { readRange } from '../share/file-io.js';
import { releaseLock, tryLock } from './part-lock.js';

/*
 * A download in progress lives beside its target as three files:
 *   <target>.<sha12>.part       the bytes received so far, always a prefix of the content
 *   <target>.<sha12>.part.json  what the part is (sha256, size), validated before it is trusted
 *   <target>.<sha12>.part.lock  the pid of the process downloading it now
 * A killed download leaves the first two, so the next `peer get` of the same content resumes from the
 * part's length; a stale lock (its process is gone) is taken over. The part is named after the content,
 * so two contents under one name never mix.
 */

export const PartMeta = z.strictObject({ version: z.literal(1), sha256: Sha256Hex, size: FileSize });
export type PartMeta = z.infer<typeof PartMeta>;

export interface PartPaths {
  part: string;
  meta: string;
  lock: string;
}

export function partPaths(target: string, sha256: string): PartPaths {
  const part = `${target}.${sha256.slice(0, 12)}.part`;
  return { part, meta: `${part}.json`, lock: `${part}.lock` };
}

/** Bytes received between background flushes of the part to disk. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

/** What is left of `chunks` after the first `n` bytes. */
function dropBytes(chunks: Buffer[], n: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = n;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}

export class PartFile {
  /** Bytes in the part, all of them written and hashed. */
  offset = 0;
  /** Where the current content of the part came from, for resume-safety decisions. */
  resumed = false;
  private hash: Hash = createHash('sha256');
  /** The write in progress: a failed transfer must wait for it before the next one reads `offset`. */
  private inflight: Promise<void> = Promise.resolve();
  /** Background flushes to disk while receiving, so the final fsync has little left to wait for. */
  private flushing: Promise<void> = Promise.resolve();
  private flushedAt = 0;

  private constructor(
    readonly paths: PartPaths,
    private readonly handle: FileHandle,
    readonly content: Content,
  ) {}

  /**
   * Locks and opens the part of `content` beside `target`, keeping a valid earlier part and hashing its
   * bytes so the whole file is still verified. Returns the pid of another live process downloading the
   * same content here, instead, if there is one.
   */
  static async open(target: string, content: Content): Promise<PartFile | { heldBy: number }> {
    const paths = partPaths(target, content.sha256);
    const heldBy = await tryLock(paths.lock);
    if (heldBy !== undefined) return { heldBy };
    try {
      const handle = await PartFile.openData(paths);
      const part = new PartFile(paths, handle, content);
      await part.adoptExisting();
      return part;
    } catch (error) {
      await releaseLock(paths.lock);
      throw ioError(`cannot prepare ${paths.part}`, error);
    }
  }

  private static async openData(paths: PartPaths): Promise<FileHandle> {
    const existing = await lstat(paths.part).catch(() => undefined);
    // Never through a symlink: anything but a regular file at our part name is removed, not followed.
    if (existing && !existing.isFile()) await unlink(paths.part);
    if (existing?.isFile()) return open(paths.part, constants.O_RDWR | constants.O_NOFOLLOW);
    return open(paths.part, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  }

  private async adoptExisting(): Promise<void> {
    const size = (await this.handle.stat()).size;
    const meta = PartMeta.safeParse(await readFile(this.paths.meta, 'utf8').then(JSON.parse).catch(() => undefined));
    const trusted = meta.success && meta.data.sha256 === this.content.sha256 && meta.data.size === this.content.size;
    if (!trusted || size > this.content.size) {
      await this.reset();
    } else {
      for await (const chunk of readRange(this.handle, 0, size)) this.hash.update(chunk);
      this.offset = size;
      this.resumed = size > 0;
    }
    const content: PartMeta = { version: 1, sha256: this.content.sha256, size: this.content.size };
    await writeFile(`${this.paths.meta}.tmp`, JSON.stringify(content));
    await rename(`${this.paths.meta}.tmp`, this.paths.meta);
  }

  /** Resolves once no write is in flight, so `offset` is final (a destroyed stream lets one finish). */
  async idle(): Promise<void> {
    await this.inflight.catch(() => undefined);
  }

  /** Throws away every byte: the part starts again from zero. */
  async reset(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = createHash('sha256');
    this.offset = 0;
    this.resumed = false;
  }

  /** True when the part holds exactly the content: right length and right SHA-256. */
  isComplete(): boolean {
    return this.offset === this.content.size && this.hash.copy().digest('hex') === this.content.sha256;
  }

  /**
   * A sink for bytes continuing the part; it refuses more bytes than the content has. Chunks that queue
   * up while a write is in flight go to disk together in one writev, and are hashed as soon as they are
   * handed to the disk, so hashing overlaps the write instead of waiting for it.
   */
  writer(onBytes: (offset: number) => void): Writable {
    return new Writable({
      highWaterMark: 1024 * 1024,
      writev: (chunks, callback) => this.sink(chunks.map((c) => c.chunk as Buffer), onBytes, callback),
      write: (chunk: Buffer, _encoding, callback) => this.sink([chunk], onBytes, callback),
    });
  }

  private sink(chunks: Buffer[], onBytes: (offset: number) => void, callback: (error?: Error | null) => void): void {
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    if (this.offset + bytes > this.content.size) {
      callback(new P2PError('HOLDER_FAILED', `sent more than the ${this.content.size} bytes announced`));
      return;
    }
    this.inflight = this.append(chunks, bytes);
    this.inflight.then(() => {
      onBytes(this.offset);
      callback();
    }, (error) => callback(ioError(`cannot write ${this.paths.part}`, error)));
  }

  private async append(chunks: Buffer[], bytes: number): Promise<void> {
    const written = this.writeAll(chunks, this.offset);
    // The hash covers bytes in order; if the write fails the whole download stops (IO_ERROR) and a
    // later run re-hashes the part from disk, so hashing before the write completes is safe.
    for (const chunk of chunks) this.hash.update(chunk);
    await written;
    this.offset += bytes;
    if (this.offset - this.flushedAt >= FLUSH_EVERY_BYTES) {
      this.flushedAt = this.offset;
      // One flush at a time, not awaited here: the disk writes back while the network keeps delivering.
      this.flushing = this.flushing.then(() => this.handle.datasync()).catch(() => undefined);
    }
  }

  private async writeAll(chunks: Buffer[], position: number): Promise<void> {
    let rest = chunks;
    while (rest.length > 0) {
      const { bytesWritten } = await this.handle.writev(rest, position);
      position += bytesWritten;
      rest = dropBytes(rest, bytesWritten);
    }
  }

  /** Flushes and closes the part, then removes its meta file and lock; the caller moves the part. */
  async finish(): Promise<void> {
    try {
      await this.flushing;
      await this.handle.sync();
    } catch (error) {
      throw ioError(`cannot write ${this.paths.part}`, error);
    } finally {
      await this.handle.close().catch(() => undefined);
    }
  }

  async releaseAfterCommit(): Promise<void> {
    await unlink(this.paths.meta).catch(() => undefined);
    await releaseLock(this.paths.lock);
  }

  /** Keeps the part for a later resume (or removes it if it holds nothing) and releases the lock. */
  async keep(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    if (this.offset === 0) {
      await unlink(this.paths.part).catch(() => undefined);
      await unlink(this.paths.meta).catch(() => undefined);
    }
    await releaseLock(this.paths.lock);
  }
}
