import type { Source } from './source.js';

/**
 * How many of the partial holders a download knows have each piece (BitTorrent's availability), from
 * what each last said it has: what rarest-first goes by. A holder that leaves takes its pieces with it.
 */
export class PieceAvailability {
  readonly counts: Uint16Array;
  private readonly holders = new Set<Source>();

  constructor(pieceCount: number) {
    this.counts = new Uint16Array(pieceCount);
  }

  /** Partial holders counted in. */
  get size(): number {
    return this.holders.size;
  }

  /** `source` said what it has now (`source.held`); `before` is what it had said. */
  learned(source: Source, before: Uint8Array | undefined): void {
    this.count(before, -1);
    this.count(source.held, 1);
    this.holders.add(source);
  }

  /** `source` left the download: its pieces are counted out. */
  forget(source: Source): void {
    if (this.holders.delete(source)) this.count(source.held, -1);
  }

  private count(bits: Uint8Array | undefined, by: number): void {
    if (!bits) return;
    for (let piece = 0; piece < this.counts.length; piece++) if ((bits[piece >> 3]! >> (piece & 7)) & 1) this.counts[piece]! += by;
  }
}
