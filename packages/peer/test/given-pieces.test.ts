import { MIN_PIECE_BYTES } from '@p2pservice/protocol';
import { describe, expect, it } from 'vitest';
import { GivenPieces, MAX_CONTENTS_REMEMBERED } from '../src/share/given-pieces.js';

/* What a seed tells downloaders that share a content: the pieces nobody asked it for yet, round by round. */

const sha = (n: number) => n.toString(16).padStart(64, '0');
const size = 10 * MIN_PIECE_BYTES + 5; // 11 pieces: two bytes of bits, five bits of the second
const bitsOf = (buffer: Buffer) => Array.from({ length: 11 }, (_, piece) => (buffer[piece >> 3]! >> (piece & 7)) & 1).join('');

describe('the pieces a holder was asked for', () => {
  it('are left out of fresh, every piece a range touches; the bits past the last piece stay clear', () => {
    const given = new GivenPieces();
    expect(bitsOf(given.fresh(sha(1), size))).toBe('11111111111');
    expect(given.fresh(sha(1), size)[1]).toBe(0b111);
    given.asked(sha(1), size, MIN_PIECE_BYTES - 1, 2); // the end of piece 0 and the start of piece 1
    given.asked(sha(1), size, 10 * MIN_PIECE_BYTES, 5);
    expect(bitsOf(given.fresh(sha(1), size))).toBe('00111111110');
    // Another content is another record.
    expect(bitsOf(given.fresh(sha(2), size))).toBe('11111111111');
  });

  it('start a new round once every piece was asked for', () => {
    const given = new GivenPieces();
    given.asked(sha(1), size, 0, 10 * MIN_PIECE_BYTES);
    expect(bitsOf(given.fresh(sha(1), size))).toBe('00000000001');
    given.asked(sha(1), size, 10 * MIN_PIECE_BYTES, 5);
    expect(bitsOf(given.fresh(sha(1), size))).toBe('11111111111');
  });

  it('are remembered for the most recently asked contents only', () => {
    const given = new GivenPieces();
    for (let n = 0; n <= MAX_CONTENTS_REMEMBERED; n++) given.asked(sha(n), size, 0, 1);
    expect(bitsOf(given.fresh(sha(0), size))).toBe('11111111111');
    expect(bitsOf(given.fresh(sha(1), size))).toBe('01111111111');
    expect(bitsOf(given.fresh(sha(MAX_CONTENTS_REMEMBERED), size))).toBe('01111111111');
  });
});
