import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { PieceGeometry } from '@p2pservice/protocol';
import type { PartFile } from '../download/part-file.js';
import type { PartialContent, PartialContents } from '../share/partial-content.js';

/**
 * One download offered to others: the pieces of its part that are verified, read through a file handle of
 * the server's own. Once the download is done the part has become the finished file (the same inode under
 * the target's name), which a seeding peer goes on serving.
 */
export class OfferedPart implements PartialContent {
  readonly sha256: string;
  readonly size: number;
  readonly root: string;
  readonly geometry: PieceGeometry;
  /** Bytes sent to each downloader, by identity (or address). */
  readonly sentTo = new Map<string, number>();
  /** Where the bytes are now: the part, and once committed also the finished file. */
  private paths: string[];
  private opened: Promise<FileHandle | undefined> | undefined;

  constructor(
    private readonly part: PartFile,
    readonly layer: readonly Buffer[],
    /** The part's device and inode: only that file is ever opened again, never one put at its name. */
    private readonly file: { dev: number; ino: number },
  ) {
    this.sha256 = part.content.sha256;
    this.size = part.content.size;
    this.root = part.root;
    this.geometry = part.geometry;
    this.paths = [part.paths.part];
  }

  verifiedCount(): number {
    return this.part.verifiedPieces;
  }

  isVerified(piece: number): boolean {
    return this.part.isVerified(piece);
  }

  bitfield(): Buffer {
    return this.part.bitfield();
  }

  whenMore(after: number, ms: number): Promise<void> {
    return this.part.whenMore(after, ms);
  }

  /** The download was committed to `path` (same inode): served from there on. */
  committed(path: string): void {
    this.paths = [path, ...this.paths];
  }

  /** Opened at the first fetch, and kept until the offer ends: one open and check, not one per fetch. */
  reader(): Promise<FileHandle | undefined> {
    this.opened ??= this.openChecked();
    return this.opened;
  }

  private async openChecked(): Promise<FileHandle | undefined> {
    for (const path of this.paths) {
      // Never through a symlink, and only the very file that was filled: a file swapped in is not served.
      const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
      if (!handle) continue;
      const stats = await handle.stat().catch(() => undefined);
      if (stats && stats.dev === this.file.dev && stats.ino === this.file.ino) return handle;
      await handle.close().catch(() => undefined);
    }
    return undefined;
  }

  /** No longer served: its reader is closed (reads under way end with an error, and their uploads with it). */
  async close(): Promise<void> {
    const handle = await this.opened;
    this.opened = Promise.resolve(undefined);
    await handle?.close().catch(() => undefined);
  }

  sent(downloader: string, bytes: number): void {
    this.sentTo.set(downloader, (this.sentTo.get(downloader) ?? 0) + bytes);
  }
}

/** The downloads a peer offers now, by sha256: what its party server serves. */
export class PartShelf implements PartialContents {
  private readonly offered = new Map<string, OfferedPart>();

  find(sha256: string): OfferedPart | undefined {
    return this.offered.get(sha256);
  }

  async put(part: PartFile, layer: readonly Buffer[]): Promise<OfferedPart> {
    const offered = new OfferedPart(part, layer, await part.fileIdentity());
    this.offered.set(offered.sha256, offered);
    return offered;
  }

  remove(offered: OfferedPart): void {
    if (this.offered.get(offered.sha256) === offered) this.offered.delete(offered.sha256);
    void offered.close();
  }

  get size(): number {
    return this.offered.size;
  }

  all(): OfferedPart[] {
    return [...this.offered.values()];
  }
}
