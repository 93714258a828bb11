import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Content, FileSize, PieceGeometry, Sha256Hex } from '@p2pservice/protocol';
import { z } from 'zod';
import { writeFileAtomically } from '../util/atomic-file.js';
import { ioError } from '../util/fs-errors.js';
import { releaseLock, tryLock } from './part-lock.js';

/*
 * A download in progress lives beside its target as three files:
 *   <target>.<sha12>.part       the bytes received so far, each piece at its offset
 *   <target>.<sha12>.part.json  what the part is (sha256, size, root) and which pieces were verified
 *   <target>.<sha12>.part.lock  the pid of the process downloading it now
 * A killed download leaves the first two, so the next `peer get` of the same content resumes with the
 * pieces it had. The sidecar is only a hint: every piece it names is verified again from disk before it
 * counts, and without a sidecar every piece already on disk is (so a damaged sidecar costs a re-read,
 * never trust). A stale lock (its process is gone) is taken over. The part is named after the content,
 * so two contents under one name never mix.
 */

export const PartMeta = z.strictObject({
  version: z.literal(2),
  sha256: Sha256Hex,
  size: FileSize,
  root: Sha256Hex,
  /** One bit per piece, piece 0 in the lowest bit of byte 0. */
  verified: z.base64(),
});
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

/** Bytes written between background flushes of the part to disk. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * How often the sidecar is rewritten while pieces arrive (it is also written when the download stops):
 * a download killed outright (SIGKILL, power loss) fetches again at most the pieces of this last moment.
 */
const META_EVERY_MS = 250;

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
  readonly geometry: PieceGeometry;
  /** Pieces verified in this run (or verified again from disk after a resume). */
  private readonly verified: Uint8Array;
  private verifiedCount = 0;
  /** The root of the piece tree the part is filled against (set by `plan`). */
  root = '';
  private written = 0;
  private flushedAt = 0;
  private flushing: Promise<void> = Promise.resolve();
  private metaSavedAt = 0;
  private metaWrite: Promise<void> = Promise.resolve();
  /** Whether a sidecar may be on disk (one was found, or written): only then is it removed at the end. */
  private metaOnDisk = false;
  /** Called at every change of the verified pieces (holders waiting to tell a downloader of new ones). */
  private readonly watchers = new Set<() => void>();

  private constructor(
    readonly paths: PartPaths,
    private readonly handle: FileHandle,
    readonly content: Content,
  ) {
    this.geometry = new PieceGeometry(content.size);
    this.verified = new Uint8Array(Math.ceil(this.geometry.pieceCount / 8));
  }

  /**
   * Locks and opens the part of `content` beside `target`. Returns the pid of another live process
   * downloading the same content here, instead, if there is one. `sweptFolders`: see tryLock.
   */
  static async open(target: string, content: Content, sweptFolders?: Set<string>): Promise<PartFile | { heldBy: number }> {
    const paths = partPaths(target, content.sha256);
    const heldBy = await tryLock(paths.lock, sweptFolders);
    if (heldBy !== undefined) return { heldBy };
    try {
      const existing = await lstat(paths.part).catch(() => undefined);
      // Only a download that ran before (its part is there) can have left temporaries.
      if (existing) await removeSidecarTemporaries(paths);
      return new PartFile(paths, await PartFile.openData(paths, existing), content);
    } catch (error) {
      await releaseLock(paths.lock);
      throw ioError(`cannot prepare ${paths.part}`, error);
    }
  }

  private static async openData(paths: PartPaths, existing: Stats | undefined): Promise<FileHandle> {
    // Never through a symlink: anything but a regular file at our part name is removed, not followed.
    if (existing && !existing.isFile()) await unlink(paths.part);
    if (existing?.isFile()) return open(paths.part, constants.O_RDWR | constants.O_NOFOLLOW);
    return open(paths.part, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  }

  /**
   * Fills the part against the piece tree `root` from now on, and returns the pieces an earlier run may
   * have left in it: each is to be verified from disk before it counts.
   */
  async plan(root: string): Promise<number[]> {
    this.root = root;
    const { geometry } = this;
    const size = (await this.handle.stat()).size;
    const text = await readFile(this.paths.meta, 'utf8').catch(() => undefined);
    this.metaOnDisk = text !== undefined;
    let pieces: number[] = [];
    if (size > this.content.size) {
      await this.handle.truncate(0);
    } else {
      const onDisk = (piece: number) => geometry.lengthOf(piece) > 0 && geometry.offsetOf(piece) + geometry.lengthOf(piece) <= size;
      pieces = Array.from({ length: geometry.pieceCount }, (_, i) => i).filter(onDisk);
      const meta = PartMeta.safeParse(text === undefined ? undefined : parsedOrUndefined(text));
      const sameContent = meta.success && meta.data.sha256 === this.content.sha256 && meta.data.size === this.content.size && meta.data.root === root;
      // Without a sidecar we can read, whatever is on disk is checked, piece by piece.
      if (sameContent) {
        const bits = Buffer.from(meta.data.verified, 'base64');
        pieces = pieces.filter((piece) => ((bits[piece >> 3] ?? 0) >> (piece & 7)) & 1);
      }
    }
    // A sidecar that is there is rewritten for this run at once (as it was, it describes an earlier run's
    // part). Where there is none, none is written before the first verified piece (a part without one is
    // checked piece by piece on resume): a folder of one-piece files writes none.
    if (this.metaOnDisk) await this.saveMeta();
    return pieces;
  }

  get verifiedPieces(): number {
    return this.verifiedCount;
  }

  get isComplete(): boolean {
    return this.verifiedCount === this.geometry.pieceCount;
  }

  isVerified(piece: number): boolean {
    return ((this.verified[piece >> 3]! >> (piece & 7)) & 1) === 1;
  }

  /** Bytes of the pieces verified so far. */
  get verifiedBytes(): number {
    let bytes = this.verifiedCount * this.geometry.pieceSize;
    const last = this.geometry.pieceCount - 1;
    if (this.isVerified(last)) bytes -= this.geometry.pieceSize - this.geometry.lengthOf(last);
    return bytes;
  }

  /** A copy of the verified pieces, one bit each (piece 0 in the lowest bit of byte 0). */
  bitfield(): Buffer {
    return Buffer.from(this.verified);
  }

  /** Resolves once more than `after` pieces are verified (or the count changes at all), or after `ms`. */
  whenMore(after: number, ms: number): Promise<void> {
    if (this.verifiedCount !== after) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.watchers.delete(done);
        resolve();
      };
      // A wait for news must not keep a finished program alive.
      const timer = setTimeout(done, ms).unref();
      this.watchers.add(done);
    });
  }

  /** The device and inode of the part: a holder serving its pieces opens it again only if it is the same file. */
  async fileIdentity(): Promise<{ dev: number; ino: number }> {
    const { dev, ino } = await this.handle.stat();
    return { dev, ino };
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  markVerified(piece: number): void {
    if (this.isVerified(piece)) return;
    this.verified[piece >> 3]! |= 1 << (piece & 7);
    this.verifiedCount++;
    this.changed();
    // The last piece needs no record: the part is moved into place next (and were it not, a part without
    // a sidecar is checked piece by piece). A one-piece file, most of a folder's, writes no sidecar at all.
    if (!this.isComplete && performance.now() - this.metaSavedAt >= META_EVERY_MS) void this.saveMeta().catch(() => undefined);
  }

  /** Forgets every verified piece: the part starts again from zero. */
  async reset(): Promise<void> {
    this.verified.fill(0);
    this.verifiedCount = 0;
    this.changed();
    await this.handle.truncate(0);
    await this.saveMeta();
  }

  /** Writes `chunks` at `position`, all of them (writev may write less than asked). */
  async writeAt(chunks: Buffer[], position: number): Promise<void> {
    let rest = chunks;
    let at = position;
    while (rest.length > 0) {
      const { bytesWritten } = await this.handle.writev(rest, at);
      at += bytesWritten;
      this.written += bytesWritten;
      rest = dropBytes(rest, bytesWritten);
    }
    if (this.written - this.flushedAt >= FLUSH_EVERY_BYTES) {
      this.flushedAt = this.written;
      // One flush at a time, not awaited here: the disk writes back while the network keeps delivering.
      this.flushing = this.flushing.then(() => this.handle.datasync()).catch(() => undefined);
    }
  }

  /** Reads `length` bytes at `position` into a fresh buffer (short if the part is shorter). */
  async read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.handle.read(buffer, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  }

  /** Records the verified pieces in the sidecar, atomically; one write at a time. IO_ERROR if it cannot. */
  saveMeta(): Promise<void> {
    this.metaSavedAt = performance.now();
    this.metaOnDisk = true;
    const meta: PartMeta = {
      version: 2,
      sha256: this.content.sha256,
      size: this.content.size,
      root: this.root,
      verified: Buffer.from(this.verified).toString('base64'),
    };
    // The sidecar's name can be guessed from the public list: it is never written through a link planted
    // there (writeFileAtomically), and a full disk is the coded disk error, not an unexpected one.
    this.metaWrite = this.metaWrite
      .catch(() => undefined)
      .then(() => writeFileAtomically(this.paths.meta, JSON.stringify(meta)))
      .catch((error: unknown) => {
        throw ioError(`cannot write ${this.paths.meta}`, error);
      });
    return this.metaWrite;
  }

  /** Flushes and closes the part; the caller moves it into place. */
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
    await this.metaWrite.catch(() => undefined);
    if (this.metaOnDisk) await unlink(this.paths.meta).catch(() => undefined);
    await releaseLock(this.paths.lock);
  }

  /** Keeps the part for a later resume (or removes it if it holds nothing) and releases the lock. */
  async keep(): Promise<void> {
    await this.saveMeta().catch(() => undefined);
    const size = (await this.handle.stat().catch(() => undefined))?.size ?? 0;
    await this.handle.close().catch(() => undefined);
    if (size === 0 && this.verifiedCount === 0) {
      await unlink(this.paths.part).catch(() => undefined);
      await unlink(this.paths.meta).catch(() => undefined);
    }
    await releaseLock(this.paths.lock);
  }
}

/** The JSON in `text`, or undefined if it is not JSON (a sidecar cut short). */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Removes temporaries of the sidecar left by a process killed while writing it (writeFileAtomically's
 * `META.XXXXXXXX.tmp`): only called with the part's lock held, so no live writer owns one. Unlinking
 * removes a link itself, never what it points at.
 */
async function removeSidecarTemporaries({ meta }: PartPaths): Promise<void> {
  const prefix = `${basename(meta)}.`;
  const entries = await readdir(dirname(meta)).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry.startsWith(prefix) && /^[0-9a-f]{8}\.tmp$/.test(entry.slice(prefix.length))) await unlink(join(dirname(meta), entry)).catch(() => undefined);
  }
}
