import { MERKLE_BLOCK_BYTES, type PieceGeometry, sha256Of } from './merkle.js';

/**
 * Hashes a run of pieces as its bytes stream by, in chunks of any size, and hands over each piece's hash
 * as soon as its last byte is in. Only a partial block (< 16 KiB) is ever copied and kept, so memory
 * stays flat whatever the piece size.
 */
export class PieceHasher {
  private piece: number;
  private inPiece = 0;
  private leaves: Buffer[] = [];
  private readonly partial = Buffer.allocUnsafe(MERKLE_BLOCK_BYTES);
  private partialBytes = 0;

  constructor(
    private readonly geometry: PieceGeometry,
    firstPiece: number,
    private readonly onPiece: (index: number, hash: Buffer) => void,
  ) {
    this.piece = firstPiece;
    // An empty file's one piece has no bytes to wait for.
    if (geometry.size === 0) this.finishPiece();
  }

  update(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.piece >= this.geometry.pieceCount) throw new RangeError('more bytes than the file has');
      const pieceLeft = this.geometry.lengthOf(this.piece) - this.inPiece;
      const take = Math.min(pieceLeft, chunk.length - at);
      this.hashBlocks(chunk.subarray(at, at + take));
      at += take;
      this.inPiece += take;
      if (this.inPiece === this.geometry.lengthOf(this.piece)) this.finishPiece();
    }
  }

  private hashBlocks(bytes: Buffer): void {
    let at = 0;
    if (this.partialBytes > 0) {
      const take = Math.min(MERKLE_BLOCK_BYTES - this.partialBytes, bytes.length);
      bytes.copy(this.partial, this.partialBytes, 0, take);
      this.partialBytes += take;
      at = take;
      if (this.partialBytes === MERKLE_BLOCK_BYTES) {
        this.leaves.push(sha256Of(this.partial));
        this.partialBytes = 0;
      }
    }
    // Whole blocks straight from the caller's buffer, without a copy.
    while (bytes.length - at >= MERKLE_BLOCK_BYTES) {
      this.leaves.push(sha256Of(bytes.subarray(at, at + MERKLE_BLOCK_BYTES)));
      at += MERKLE_BLOCK_BYTES;
    }
    if (at < bytes.length) {
      bytes.copy(this.partial, 0, at);
      this.partialBytes = bytes.length - at;
    }
  }

  private finishPiece(): void {
    if (this.partialBytes > 0) {
      this.leaves.push(sha256Of(this.partial.subarray(0, this.partialBytes)));
      this.partialBytes = 0;
    }
    const index = this.piece;
    const hash = this.geometry.pieceHash(this.leaves);
    this.leaves = [];
    this.inPiece = 0;
    this.piece++;
    this.onPiece(index, hash);
  }
}

/** The piece layer and root of a whole file, from a stream of its bytes. */
export class TreeHasher {
  private readonly layer: Buffer[] = [];
  private readonly hasher: PieceHasher;

  constructor(readonly geometry: PieceGeometry) {
    this.hasher = new PieceHasher(geometry, 0, (index, hash) => (this.layer[index] = hash));
  }

  update(chunk: Buffer): void {
    this.hasher.update(chunk);
  }

  /** The piece layer and root; throws if fewer bytes came than the file has. */
  digest(): { root: Buffer; layer: Buffer[] } {
    if (this.layer.length !== this.geometry.pieceCount) throw new RangeError('fewer bytes than the file has');
    return { root: this.geometry.rootOf(this.layer), layer: this.layer };
  }
}
