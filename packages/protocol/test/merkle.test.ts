import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { layerFromHex, layerToHex, MAX_PIECES, MERKLE_BLOCK_BYTES, MIN_PIECE_BYTES, PieceGeometry, pieceSizeFor, TreeHasher } from '../src/index.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest();

/** The tree written out whole, the way BitTorrent v2 defines it: every layer, from the leaves up. */
function referenceLayers(data: Buffer): Buffer[][] {
  const leaves: Buffer[] = [];
  for (let at = 0; at < Math.max(1, data.length); at += MERKLE_BLOCK_BYTES) leaves.push(sha(data.subarray(at, at + MERKLE_BLOCK_BYTES)));
  let width = 1;
  while (width < leaves.length) width *= 2;
  while (leaves.length < width) leaves.push(Buffer.alloc(32));
  const layers = [leaves];
  while (layers[layers.length - 1]!.length > 1) {
    const below = layers[layers.length - 1]!;
    const up: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(sha(Buffer.concat([below[i]!, below[i + 1]!])));
    layers.push(up);
  }
  return layers;
}

function treeOf(data: Buffer, chunk: number) {
  const hasher = new TreeHasher(new PieceGeometry(data.length));
  for (let at = 0; at < data.length; at += chunk) hasher.update(data.subarray(at, at + chunk));
  return hasher.digest();
}

describe('Merkle tree of 16 KiB blocks', () => {
  const sizes = [0, 1, MERKLE_BLOCK_BYTES, MERKLE_BLOCK_BYTES + 1, 3 * MERKLE_BLOCK_BYTES, MIN_PIECE_BYTES, MIN_PIECE_BYTES + 1, 5 * MIN_PIECE_BYTES + 777];
  it.each(sizes)('a file of %i bytes has the reference root, and its piece layer is a layer of the tree', (size) => {
    const data = randomBytes(size);
    const layers = referenceLayers(data);
    const { root, layer } = treeOf(data, 7_001);
    expect(root.toString('hex')).toBe(layers[layers.length - 1]![0]!.toString('hex'));
    const geometry = new PieceGeometry(size);
    if (geometry.pieceCount > 1) {
      const height = Math.log2(geometry.blocksPerPiece);
      expect(layerToHex(layer)).toBe(layerToHex(layers[height]!.slice(0, geometry.pieceCount)));
    }
    expect(geometry.rootOf(layerFromHex(layerToHex(layer))).equals(root)).toBe(true);
  });

  it('does not depend on how the bytes are cut into chunks', () => {
    const data = randomBytes(3 * MIN_PIECE_BYTES + 12_345);
    const roots = [1, 999, MERKLE_BLOCK_BYTES, 65_536, data.length].map((chunk) => treeOf(data, chunk).root.toString('hex'));
    expect(new Set(roots).size).toBe(1);
  });

  it('changes when one byte changes, and a changed piece layer no longer gives the root', () => {
    const data = randomBytes(4 * MIN_PIECE_BYTES);
    const { root, layer } = treeOf(data, 65_536);
    data[MIN_PIECE_BYTES + 5]! ^= 1;
    const changed = treeOf(data, 65_536);
    expect(changed.root.equals(root)).toBe(false);
    expect(changed.layer.filter((h, i) => !h.equals(layer[i]!)).length).toBe(1);
    const geometry = new PieceGeometry(data.length);
    expect(geometry.rootOf([layer[0]!, changed.layer[1]!, layer[2]!, layer[3]!]).equals(root)).toBe(false);
  });

  it('grows pieces so that no file has more than MAX_PIECES of them', () => {
    expect(pieceSizeFor(0)).toBe(MIN_PIECE_BYTES);
    expect(pieceSizeFor(MAX_PIECES * MIN_PIECE_BYTES)).toBe(MIN_PIECE_BYTES);
    expect(pieceSizeFor(MAX_PIECES * MIN_PIECE_BYTES + 1)).toBe(2 * MIN_PIECE_BYTES);
    expect(new PieceGeometry(Number.MAX_SAFE_INTEGER).pieceCount).toBeLessThanOrEqual(MAX_PIECES);
  });
});
