import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from '../core/constants.js';
import { P2PError } from '../core/errors.js';

/** Serialises one message as a frame: 4-byte big-endian body length, then the UTF-8 JSON body. */
export function encodeFrame(message: unknown, maxFrameBytes = MAX_FRAME_BYTES): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > maxFrameBytes) {
    throw new P2PError('FRAME_TOO_LARGE', `frame of ${body.length} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

type DecoderState =
  | { kind: 'header' }
  | { kind: 'body'; length: number }
  | { kind: 'failed'; error: P2PError };

// ignoreBOM keeps a byte order mark in the text instead of silently dropping it: the spec refuses one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function startsWithBom(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
}

/**
 * A pull-based frame decoder. Bytes go in with `push`; the owner takes either the next whole frame
 * (`readFrame`) or, between frames, raw bytes (`readRaw`) — the file bytes that follow a `file` header.
 * Nothing is parsed ahead of the owner, so a switch to raw bytes can never be raced by the parser.
 *
 * States: header (waiting for 4 length bytes) → body (waiting for `length` bytes) → header ...
 * A protocol error moves to `failed` for good: the stream cannot be resynchronised.
 */
export class FrameDecoder {
  private state: DecoderState = { kind: 'header' };
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next frame's parsed JSON wrapped as `{ value }`, or `undefined` if it has not fully arrived.
   * Throws P2PError FRAME_TOO_LARGE or BAD_JSON; after that every call throws the same error.
   */
  readFrame(): { value: unknown } | undefined {
    if (this.state.kind === 'failed') throw this.state.error;
    if (this.state.kind === 'header') {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      // The limit is checked on the prefix alone, before a byte of the body is buffered for it.
      if (length > this.maxFrameBytes) {
        return this.fail(new P2PError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`));
      }
      this.state = { kind: 'body', length };
    }
    if (this.buffered < this.state.length) return undefined;
    const body = this.take(this.state.length);
    this.state = { kind: 'header' };
    if (startsWithBom(body)) return this.fail(new P2PError('BAD_JSON', `frame of ${body.length} bytes starts with a UTF-8 byte order mark`));
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(body));
    } catch {
      return this.fail(new P2PError('BAD_JSON', `frame of ${body.length} bytes is not valid UTF-8 JSON`));
    }
    return { value };
  }

  /** Up to `max` buffered raw bytes (without copying), or `undefined` if none are buffered. */
  readRaw(max: number): Buffer | undefined {
    if (this.state.kind !== 'header') throw new Error('raw bytes can only be read between frames');
    if (this.buffered === 0 || max <= 0) return undefined;
    const first = this.chunks[0]!;
    const n = Math.min(max, first.length);
    return this.take(n);
  }

  private fail(error: P2PError): never {
    this.state = { kind: 'failed', error };
    this.chunks = [];
    this.buffered = 0;
    throw error;
  }

  /** Removes exactly `n` (≤ buffered) bytes from the front, copying only when they span chunks. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
