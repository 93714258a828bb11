import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES, P2PError } from '../src/index.js';

const messages = [
  { type: 'hello', protocol: 2, agent: 'test', features: [] },
  { type: 'list', id: 7, after: null, limit: 10 },
  { type: 'who_has', id: 8, name: 'nested/ünïcode 名前 🎵.txt' },
  { big: 'x'.repeat(70_000) },
  [],
  null,
];
const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));

function decodeAll(decoder: FrameDecoder): unknown[] {
  const out: unknown[] = [];
  for (let frame = decoder.readFrame(); frame; frame = decoder.readFrame()) out.push(frame.value);
  return out;
}

/** A small deterministic PRNG so random re-chunkings are reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const CPU_HEAVY_MS = 60_000;

describe('frame encoding', () => {
  it('writes a 4-byte big-endian length then the UTF-8 JSON body', () => {
    const frame = encodeFrame({ a: 'é' });
    const body = Buffer.from('{"a":"é"}', 'utf8');
    expect(frame.readUInt32BE(0)).toBe(body.length);
    expect(frame.subarray(4)).toEqual(body);
  });

  it('refuses to encode a frame over the limit', () => {
    expect(() => encodeFrame({ x: 'y'.repeat(100) }, 50)).toThrowError(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
  });
});

describe('frame decoding', () => {
  it('decodes the same messages for every split of the stream into two pieces', () => {
    for (let split = 0; split <= stream.length; split += split < 200 || split > stream.length - 200 ? 1 : 97) {
      const decoder = new FrameDecoder();
      decoder.push(stream.subarray(0, split));
      const first = decodeAll(decoder);
      decoder.push(stream.subarray(split));
      expect([...first, ...decodeAll(decoder)]).toEqual(messages);
    }
  });

  // Hundreds of re-chunkings of a long stream: seconds of CPU, far more on a loaded 2-core CI machine.
  it('decodes the same messages byte by byte and for random re-chunkings', () => {
    const byteByByte = new FrameDecoder();
    const out: unknown[] = [];
    for (let i = 0; i < stream.length; i++) {
      byteByByte.push(stream.subarray(i, i + 1));
      out.push(...decodeAll(byteByByte));
    }
    expect(out).toEqual(messages);

    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const decoder = new FrameDecoder();
      const got: unknown[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 16 : 40_000));
        decoder.push(stream.subarray(at, at + size));
        got.push(...decodeAll(decoder));
        at += size;
      }
      expect(got).toEqual(messages);
      expect(decoder.bufferedBytes).toBe(0);
    }
  }, CPU_HEAVY_MS);

  it('rejects an oversize length prefix before any body byte arrives', () => {
    const decoder = new FrameDecoder(1024);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1025);
    decoder.push(prefix);
    expect(() => decoder.readFrame()).toThrowError(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    expect(decoder.bufferedBytes).toBe(0);
    // A failed decoder stays failed: the stream cannot be resynchronised.
    decoder.push(encodeFrame({ ok: true }));
    expect(() => decoder.readFrame()).toThrow(P2PError);
  });

  it('accepts a frame of exactly the limit and the default limit is 1 MiB', () => {
    expect(MAX_FRAME_BYTES).toBe(1024 * 1024);
    const body = JSON.stringify('z'.repeat(98));
    const decoder = new FrameDecoder(body.length);
    decoder.push(encodeFrame('z'.repeat(98)));
    expect(decoder.readFrame()).toEqual({ value: 'z'.repeat(98) });
  });

  it.each([
    ['invalid UTF-8', Buffer.from([0xc3, 0x28])],
    ['not JSON', Buffer.from('{"a":', 'utf8')],
    ['an empty body', Buffer.alloc(0)],
    ['JSON after a UTF-8 byte order mark', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"type":"bye"}')])],
  ])('rejects a body that is %s with BAD_JSON', (_label, body) => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(body.length);
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([prefix, body]));
    expect(() => decoder.readFrame()).toThrowError(expect.objectContaining({ code: 'BAD_JSON' }));
  });

  it('hands out raw bytes between frames without parsing them', () => {
    const raw = Buffer.from([0, 0, 0, 9, 1, 2, 3]);
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([encodeFrame({ type: 'file' }), raw, encodeFrame({ after: true })]));
    expect(decoder.readFrame()).toEqual({ value: { type: 'file' } });
    const got: Buffer[] = [];
    let remaining = raw.length;
    while (remaining > 0) {
      const chunk = decoder.readRaw(remaining)!;
      got.push(chunk);
      remaining -= chunk.length;
    }
    expect(Buffer.concat(got)).toEqual(raw);
    expect(decoder.readFrame()).toEqual({ value: { after: true } });
  });
});
