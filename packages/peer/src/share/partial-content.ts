import type { FileHandle } from 'node:fs/promises';
import type { PieceGeometry } from '@p2pservice/protocol';

/**
 * A content this peer is still downloading, which its file server serves piece by piece to others who
 * download it too (feature `partial`, spec: Partial holders). Only verified pieces are ever served.
 */
export interface PartialContent {
  readonly sha256: string;
  readonly size: number;
  readonly root: string;
  readonly geometry: PieceGeometry;
  /** The piece layer, checked against `root` when the download began. */
  readonly layer: readonly Buffer[];
  /** Pieces verified so far, and which. */
  verifiedCount(): number;
  isVerified(piece: number): boolean;
  bitfield(): Buffer;
  /** Resolves once the count of verified pieces is no longer `after`, or after `ms`. */
  whenMore(after: number, ms: number): Promise<void>;
  /**
   * Its bytes for reading (the part file, or the file it became), through one handle kept open while it is
   * served: the server reads at offsets and never closes it. Undefined once it is gone.
   */
  reader(): Promise<FileHandle | undefined>;
  /** Counts bytes sent to a downloader (by identity, or address without one), for the page. */
  sent(downloader: string, bytes: number): void;
}

/** The contents a peer is downloading and offers, by sha256. */
export interface PartialContents {
  find(sha256: string): PartialContent | undefined;
}
