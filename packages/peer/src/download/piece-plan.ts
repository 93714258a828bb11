import type { PartFile } from './part-file.js';
import type { PlayWindow } from './play-window.js';

/** A run of consecutive pieces, [first, end), one source is asked for in one request. */
export interface Run {
  first: number;
  end: number;
}

/**
 * Which pieces are still wanted and which source is fetching which. Runs are handed out from the lowest
 * missing piece, so that bytes mostly arrive in order (the whole-file hash then reads nothing back).
 */
export class PiecePlan {
  private readonly taken: Uint8Array;

  constructor(
    private readonly part: PartFile,
    /** A player's position, when the file is played while it downloads: its pieces come first. */
    private readonly window?: PlayWindow,
  ) {
    this.taken = new Uint8Array(part.geometry.pieceCount);
  }

  /** A run of missing pieces a player waits for, if any: before anything else, from whoever has them. */
  private urgent(maxBytes: number, has: (piece: number) => boolean): Run | undefined {
    const range = this.window?.range;
    if (!range) return undefined;
    const { pieceCount, pieceSize } = this.part.geometry;
    const end = Math.min(range.end, pieceCount);
    let first = range.first;
    while (first < end && !(this.isMissing(first) && has(first))) first++;
    if (first >= end) return undefined;
    const most = Math.max(1, Math.floor(maxBytes / pieceSize));
    let last = first + 1;
    while (last < end && last - first < most && this.isMissing(last) && has(last)) last++;
    this.taken.fill(1, first, last);
    return { first, end: last };
  }

  private isMissing(piece: number): boolean {
    return this.taken[piece] === 0 && !this.part.isVerified(piece);
  }

  /** Keeps `piece` from being handed out (an end-game winner is about to write it). */
  pin(piece: number): void {
    this.taken[piece] = 2;
  }

  unpin(piece: number): void {
    this.taken[piece] = 0;
  }

  /** Takes the first missing run, of at most `maxBytes` (one piece at least); undefined when none is left. */
  take(maxBytes: number): Run | undefined {
    const urgent = this.urgent(maxBytes, () => true);
    if (urgent) return urgent;
    const { pieceCount, pieceSize } = this.part.geometry;
    let first = 0;
    while (first < pieceCount && !this.isMissing(first)) first++;
    if (first === pieceCount) return undefined;
    const most = Math.max(1, Math.floor(maxBytes / pieceSize));
    let end = first + 1;
    while (end < pieceCount && end - first < most && this.isMissing(end)) end++;
    this.taken.fill(1, first, end);
    return { first, end };
  }

  /**
   * Takes a run for a holder that has only some pieces, or among holders that do (BitTorrent's rarest
   * first): of the missing pieces `has` allows, those fewest known holders have (`availability`), one
   * chosen at random, so that downloaders starting together do not all ask for the same ones. The run
   * starts where its block of `maxBytes` does (runs stay whole, the part does not fray into single
   * pieces) and goes on over the wanted pieces after it. With `unique`, only pieces no partial holder has: a complete
   * holder's upload is spent on what nobody else can send, and with `fresh`, only pieces nobody asked
   * that holder for yet (it says which).
   */
  takeRarest(maxBytes: number, has: (piece: number) => boolean, availability: Uint16Array, unique: boolean, fresh?: (piece: number) => boolean): Run | undefined {
    const urgent = this.urgent(maxBytes, has);
    if (urgent) return urgent;
    const { pieceCount, pieceSize } = this.part.geometry;
    const wanted = (piece: number) => this.isMissing(piece) && has(piece) && (!unique || (availability[piece] === 0 && (fresh?.(piece) ?? true)));
    let rarest = Infinity;
    let candidates = 0;
    let chosen = -1;
    for (let piece = 0; piece < pieceCount; piece++) {
      if (!wanted(piece)) continue;
      const a = availability[piece]!;
      if (a > rarest) continue;
      if (a < rarest) {
        rarest = a;
        candidates = 0;
      }
      // Reservoir sampling: each of the rarest pieces is chosen with the same chance, in one pass.
      candidates++;
      if (Math.random() * candidates < 1) chosen = piece;
    }
    if (chosen < 0) return undefined;
    const most = Math.max(1, Math.floor(maxBytes / pieceSize));
    const asRare = (piece: number) => wanted(piece) && availability[piece]! <= rarest;
    let first = chosen - (chosen % most);
    while (!asRare(first)) first++;
    // A run goes on over the pieces after it that are wanted too (as rare or not, for a partial holder:
    // one request instead of several; only as rare for a complete one, whose upload is kept for those).
    const goesOn = unique ? asRare : wanted;
    let end = first + 1;
    while (end < pieceCount && end - first < most && goesOn(end)) end++;
    this.taken.fill(1, first, end);
    return { first, end };
  }

  /** Gives back the pieces of [first, end) that were not verified, for another source to fetch. */
  release(first: number, end: number): void {
    for (let piece = first; piece < end; piece++) if (this.taken[piece] === 1) this.taken[piece] = 0;
  }

  /** Bytes of the pieces that nobody is fetching and that are not verified. */
  get missingBytes(): number {
    let bytes = 0;
    for (let piece = 0; piece < this.part.geometry.pieceCount; piece++) if (this.isMissing(piece)) bytes += this.part.geometry.lengthOf(piece);
    return bytes;
  }
}
