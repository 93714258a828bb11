import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, HolderReply, HolderRequest, P2PError, TrackerReply, TrackerRequest } from '../src/index.js';
import { requestLike, wireInput } from '@p2pservice/test-support/fuzz';

/* Property tests: the decoder and every schema, fed generated input, never crash and never let junk in. */

describe('the frame decoder under generated input', () => {
  it('never throws anything but a coded P2PError, never buffers past one frame plus one chunk, and re-chunking never changes what it decodes', () => {
    const maxFrame = 4096;
    fc.assert(
      fc.property(fc.array(wireInput, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }), (pieces, cuts) => {
        const stream = Buffer.concat(pieces);
        const decode = (chunking: number[]) => {
          const decoder = new FrameDecoder(maxFrame);
          const out: unknown[] = [];
          let error: string | undefined;
          for (let at = 0, i = 0; at < stream.length && !error; i++) {
            const size = chunking[i % chunking.length]!;
            decoder.push(stream.subarray(at, at + size));
            at += size;
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrame + 4 + Math.max(...chunking));
            try {
              for (let frame = decoder.readFrame(); frame; frame = decoder.readFrame()) out.push(frame.value);
            } catch (e) {
              expect(e).toBeInstanceOf(P2PError);
              error = (e as P2PError).code;
            }
          }
          return { out, error };
        };
        expect(decode(cuts)).toEqual(decode([stream.length || 1]));
      }),
      { numRuns: 20_000 },
    );
  }, 60_000); // thousands of generated streams: seconds of CPU, far more on a loaded 2-core CI machine

  it('round-trips every JSON value it can encode', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decoder = new FrameDecoder();
        decoder.push(encodeFrame(value));
        expect(decoder.readFrame()).toEqual({ value: JSON.parse(JSON.stringify(value)) });
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('the message schemas under generated input', () => {
  it('never throw, and accept only objects with exactly the known keys', () => {
    const schemas = [TrackerRequest, TrackerReply, HolderRequest, HolderReply];
    fc.assert(
      fc.property(fc.oneof(requestLike, fc.jsonValue({ maxDepth: 4 })), (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as unknown;
        for (const schema of schemas) {
          const result = schema.safeParse(parsed);
          if (result.success) {
            // What passes is exactly what was sent: no key dropped, none added, nothing coerced.
            expect(result.data).toEqual(parsed);
            expect(Object.getPrototypeOf(result.data)).toBe(Object.prototype);
          }
        }
      }),
      { numRuns: 40_000 },
    );
  });
});
