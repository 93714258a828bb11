import { hash } from 'node:crypto';

/*
 * Piece identity (spec: README#pieces), BitTorrent v2's design: a SHA-256 Merkle tree over 16 KiB
 * blocks. A leaf is the SHA-256 of one block (the last one may be shorter); the leaves are padded with
 * zero hashes (32 zero bytes) to a power of two, and each node is the SHA-256 of its two children. The
 * root names the tree whatever the piece size. A piece is a run of 2^k blocks; its hash is the node
 * above those blocks, so the layer of piece hashes (the "piece layer") is one layer of the same tree.
 * A holder sends that layer, the downloader checks it against the root, and every piece is then checked
 * on arrival alone.
 */

/** Bytes under one leaf of the tree. */
export const MERKLE_BLOCK_BYTES = 16 * 1024;

/** Smallest piece: a lie costs at most this much, and a file below it is one piece. */
export const MIN_PIECE_BYTES = 256 * 1024;

/** Most pieces a file has: larger files get larger pieces, so a piece layer fits in one frame. */
export const MAX_PIECES = 8192;

const HASH_BYTES = 32;
const ZERO_LEAF = Buffer.alloc(HASH_BYTES);

export const sha256Of = (data: Buffer): Buffer => hash('sha256', data, 'buffer');
const parentOf = (left: Buffer, right: Buffer): Buffer => sha256Of(Buffer.concat([left, right], 2 * HASH_BYTES));

/** The piece size of a file of `size` bytes: MIN_PIECE_BYTES, doubled until it has at most MAX_PIECES pieces. */
export function pieceSizeFor(size: number): number {
  let pieceSize = MIN_PIECE_BYTES;
  while (Math.ceil(size / pieceSize) > MAX_PIECES) pieceSize *= 2;
  return pieceSize;
}

/** How many pieces a file of `size` bytes has (an empty file has one, empty). */
export function pieceCountOf(size: number, pieceSize = pieceSizeFor(size)): number {
  return Math.max(1, Math.ceil(size / pieceSize));
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The root of a subtree of `width` (a power of two) all-zero leaves. */
const zeroSubtrees: Buffer[] = [ZERO_LEAF];
function zeroSubtree(width: number): Buffer {
  let level = 0;
  for (let w = width; w > 1; w /= 2) level++;
  while (zeroSubtrees.length <= level) {
    const below = zeroSubtrees[zeroSubtrees.length - 1]!;
    zeroSubtrees.push(parentOf(below, below));
  }
  return zeroSubtrees[level]!;
}

/**
 * The root over `nodes`, padded to `width` (a power of two ≥ nodes.length) with zero subtrees of `padWidth`
 * leaves (cached: an odd level's padding is not hashed again for every piece). Each level lies end
 * to end in one buffer, so a parent hashes a 64-byte view of its two children and is written back in
 * place: no concatenation per parent (a gigabyte has 61 440 of them at the smallest pieces).
 */
function rootOver(nodes: readonly Buffer[], width: number, padWidth: number): Buffer {
  let count = nodes.length;
  if (count === 0) return zeroSubtree(width * padWidth);
  if (width === 1) return nodes[0]!;
  // One slot more than the nodes, for the padding an odd level takes as its last right child.
  const level = Buffer.allocUnsafe((count + 1) * HASH_BYTES);
  for (let i = 0; i < count; i++) nodes[i]!.copy(level, i * HASH_BYTES);
  for (let w = width, padding = padWidth; w > 1; w /= 2, padding *= 2) {
    if (count % 2 === 1) zeroSubtree(padding).copy(level, count * HASH_BYTES);
    const parents = Math.ceil(count / 2);
    // Parent i goes where its left child's first half was: every pair after it is still unread.
    for (let i = 0; i < parents; i++) sha256Of(level.subarray(2 * i * HASH_BYTES, (2 * i + 2) * HASH_BYTES)).copy(level, i * HASH_BYTES);
    count = parents;
  }
  return Buffer.from(level.subarray(0, HASH_BYTES));
}

/** The shape of a file's tree: everything a verifier needs besides the hashes. */
export class PieceGeometry {
  readonly pieceSize: number;
  readonly pieceCount: number;
  readonly blocksPerPiece: number;

  constructor(readonly size: number) {
    this.pieceSize = pieceSizeFor(size);
    this.pieceCount = pieceCountOf(size, this.pieceSize);
    this.blocksPerPiece = this.pieceSize / MERKLE_BLOCK_BYTES;
  }

  /** Where piece `index` starts, and its length in bytes (the last one may be shorter). */
  offsetOf(index: number): number {
    return index * this.pieceSize;
  }

  lengthOf(index: number): number {
    return Math.min(this.pieceSize, this.size - index * this.pieceSize);
  }

  /** How many leaves a piece's hash is taken over: a lone piece is the whole tree, padded to a power of two. */
  private leafWidth(): number {
    return this.pieceCount === 1 ? nextPowerOfTwo(Math.max(1, Math.ceil(this.size / MERKLE_BLOCK_BYTES))) : this.blocksPerPiece;
  }

  /** A piece's hash from its blocks' leaves. */
  pieceHash(leaves: readonly Buffer[]): Buffer {
    return rootOver(leaves.length === 0 ? [sha256Of(Buffer.alloc(0))] : leaves, this.leafWidth(), 1);
  }

  /** The root from the piece layer (a lone piece's hash is the root). */
  rootOf(layer: readonly Buffer[]): Buffer {
    if (layer.length !== this.pieceCount) throw new RangeError(`a piece layer of ${this.pieceCount} hashes was expected, not ${layer.length}`);
    if (this.pieceCount === 1) return layer[0]!;
    return rootOver(layer, nextPowerOfTwo(this.pieceCount), this.blocksPerPiece);
  }
}

/** Splits a piece layer sent as hex (64 digits per piece) into hashes. */
export function layerFromHex(hex: string): Buffer[] {
  const hashes: Buffer[] = [];
  for (let at = 0; at < hex.length; at += 2 * HASH_BYTES) hashes.push(Buffer.from(hex.slice(at, at + 2 * HASH_BYTES), 'hex'));
  return hashes;
}

export const layerToHex = (layer: readonly Buffer[]): string => Buffer.concat(layer).toString('hex');
