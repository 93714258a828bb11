import { PieceGeometry } from '@p2pservice/protocol';

/** Contents whose asked-for pieces a holder remembers: the most recently asked for. */
export const MAX_CONTENTS_REMEMBERED = 64;

interface Round {
  geometry: PieceGeometry;
  bits: Uint8Array;
  count: number;
}

/**
 * Which pieces of each content downloaders have asked this holder for, round by round (a round ends once
 * every piece was asked for): what it tells downloaders that share a content as `fresh`, so that a seed's
 * upload goes to pieces the downloaders do not have among them yet (BitTorrent's super-seeding).
 */
export class GivenPieces {
  private readonly rounds = new Map<string, Round>();

  /** A fetch of [offset, offset + length) of content `sha256` (of `size` bytes) arrived. */
  asked(sha256: string, size: number, offset: number, length: number): void {
    const round = this.rounds.get(sha256) ?? { geometry: new PieceGeometry(size), bits: new Uint8Array(Math.ceil(new PieceGeometry(size).pieceCount / 8)), count: 0 };
    // The most recently asked last: the oldest is forgotten first.
    this.rounds.delete(sha256);
    this.rounds.set(sha256, round);
    if (this.rounds.size > MAX_CONTENTS_REMEMBERED) this.rounds.delete(this.rounds.keys().next().value!);
    const { pieceSize, pieceCount } = round.geometry;
    const first = Math.floor(offset / pieceSize);
    const last = length === 0 ? first : Math.floor((offset + length - 1) / pieceSize);
    for (let piece = first; piece <= last && piece < pieceCount; piece++) {
      if ((round.bits[piece >> 3]! >> (piece & 7)) & 1) continue;
      round.bits[piece >> 3]! |= 1 << (piece & 7);
      round.count++;
    }
    if (round.count === pieceCount) {
      round.bits.fill(0);
      round.count = 0;
    }
  }

  /** The pieces of `sha256` nobody asked for in this round, one bit each. */
  fresh(sha256: string, size: number): Buffer {
    const { pieceCount } = new PieceGeometry(size);
    const bits = Buffer.alloc(Math.ceil(pieceCount / 8), 0xff);
    if (pieceCount % 8 !== 0) bits[bits.length - 1] = (1 << (pieceCount % 8)) - 1;
    const round = this.rounds.get(sha256);
    if (round) for (let i = 0; i < bits.length; i++) bits[i]! &= ~round.bits[i]!;
    return bits;
  }
}
