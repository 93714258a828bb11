import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunksWithin, fileEntryBytes, FrameBudget, jsonBytes, jsonStringBytes } from '../src/index.js';

describe('sizing frames by their encoded bytes', () => {
  it('counts what JSON escaping adds', () => {
    expect(jsonBytes('"')).toBe(4);
    expect(jsonBytes('é')).toBe(4);
    expect(jsonBytes({ a: '"'.repeat(10) })).toBe(`{"a":"${'\\"'.repeat(10)}"}`.length);
  });

  it('cuts runs that fit the byte budget as JSON arrays and the count limit, losing and reordering nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 200, max: 2_000 }), (items, maxItems, maxBytes) => {
        const chunks = [...chunksWithin(items, maxItems, maxBytes)];
        expect(chunks.flat()).toEqual(items);
        expect(chunks.length).toBeGreaterThanOrEqual(1);
        for (const chunk of chunks) {
          expect(chunk.length).toBeLessThanOrEqual(maxItems);
          expect(jsonBytes(chunk) - 2).toBeLessThanOrEqual(maxBytes);
        }
      }),
    );
  });

  it('computes the size of strings and file entries exactly as JSON encodes them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('"', '\\', '\u007f', 'é', '\u2028', '')), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (name, size) => {
        expect(jsonStringBytes(name)).toBe(jsonBytes(name));
        expect(fileEntryBytes({ name, size, sha256: 'f'.repeat(64), root: 'e'.repeat(64) })).toBe(jsonBytes({ name, size, sha256: 'f'.repeat(64), root: 'e'.repeat(64) }));
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses an item that cannot fit any frame', () => {
    expect(() => [...chunksWithin(['x'.repeat(100)], 10, 50)]).toThrowError(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
  });

  it('charges a comma between array elements', () => {
    const budget = new FrameBudget(7);
    expect(budget.take(3)).toBe(true);
    expect(budget.take(3)).toBe(true);
    expect(budget.take(1)).toBe(false);
  });
});
