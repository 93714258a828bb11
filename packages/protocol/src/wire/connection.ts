import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import { MAX_FRAME_BYTES, WRITE_TIMEOUT_MS } from '../core/constants.js';
import { type Settle, waitForMessage } from '../core/deadline.js';
import { formatMs } from '../core/duration.js';
import { P2PError, wireErrorOf } from '../core/errors.js';
import { FrameDecoder, encodeFrame } from './frame.js';
import { describeSchemaError } from '../core/schema-error.js';

export interface ConnectionOptions {
  /** Largest frame body accepted or sent (default MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  /** Bytes read ahead while nobody is reading, before the socket is paused (default 256 KiB). */
  readAheadBytes?: number;
  /** How long a write may wait for the reader to make room before the connection is closed. */
  writeTimeoutMs?: number;
  /**
   * Bytes a sender may queue beyond what the kernel has taken before it waits for `drain` (default
   * 1 MiB). Enough to keep the socket busy while the next file chunk is read; small enough to bound memory.
   */
  writeBufferBytes?: number;
}

const DEFAULT_READ_AHEAD_BYTES = 256 * 1024;
const DEFAULT_WRITE_BUFFER_BYTES = 1024 * 1024;

/** Frames no receiver can accept: whoever receives one answers with an `error` frame and closes. */
const VIOLATIONS = new Set(['FRAME_TOO_LARGE', 'BAD_JSON', 'BAD_MESSAGE']);

interface RawRead {
  readonly stream: Readable;
  readonly total: number;
  remaining: number;
  /** The consumer asked for more and has not said "enough" (push returned false) since. */
  wanted: boolean;
}

/**
 * A typed, framed duplex over a TCP socket.
 *
 * Reading is pull-based: a frame is decoded only when `receive` asks for it, and raw bytes (a file body
 * after its header) only through the stream `readRaw` returns. The socket is paused whenever nobody
 * wants bytes and the read-ahead is full, so a slow consumer slows the sender down (TCP backpressure)
 * instead of growing memory. Writes wait for `drain`.
 *
 * Servers and clients alike answer a frame they cannot accept (too large, not JSON, not a valid message)
 * with an `error` frame naming why, and close: the sender learns what it did wrong (spec: Framing).
 */
export class FramedConnection<In, Out> {
  private readonly decoder: FrameDecoder;
  private readonly readAheadBytes: number;
  private readonly maxFrameBytes: number;
  private readonly writeTimeoutMs: number;
  private readonly writeBufferBytes: number;
  private waiter: Settle<unknown> | undefined;
  private raw: RawRead | undefined;
  private closed = false;
  private failing: Promise<void> | undefined;
  private socketError: Error | undefined;
  /** Resolves once the socket has fully closed, for whatever reason. */
  readonly whenClosed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly incoming: z.ZodType<In>,
    options: ConnectionOptions = {},
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    this.writeTimeoutMs = options.writeTimeoutMs ?? WRITE_TIMEOUT_MS;
    this.writeBufferBytes = options.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES;
    this.decoder = new FrameDecoder(this.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.pump();
    });
    socket.on('error', (error) => {
      this.socketError ??= error;
    });
    this.whenClosed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.pump();
        resolve();
      });
    });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** Bytes received but not yet consumed: bounded by the read-ahead (or one frame) thanks to pausing. */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes + this.socket.readableLength;
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** The next frame's JSON, unvalidated. Rejects on a protocol error, close or timeout. */
  receiveValue(timeoutMs?: number): Promise<unknown> {
    if (this.waiter || this.raw) throw new Error('one read at a time on a FramedConnection');
    const { promise, settle } = waitForMessage<unknown>(timeoutMs, () => {
      this.waiter = undefined;
      this.updateFlow();
    });
    this.waiter = settle;
    this.pump();
    return promise;
  }

  /** The next frame, validated against this side's incoming schema (P2PError BAD_MESSAGE if not). */
  async receive(timeoutMs?: number): Promise<In> {
    return this.parse(await this.receiveValue(timeoutMs));
  }

  parse(value: unknown): In {
    const result = this.incoming.safeParse(value);
    if (!result.success) throw this.violation(new P2PError('BAD_MESSAGE', `invalid message: ${describeSchemaError(result.error)}`));
    return result.data;
  }

  /**
   * The next `length` bytes as a stream, raw (not framed). Call it right after the header that announces
   * them. The stream errors with CONNECTION_CLOSED if the socket closes first.
   */
  readRaw(length: number): Readable {
    if (this.waiter || this.raw) throw new Error('one read at a time on a FramedConnection');
    const stream = new Readable({
      highWaterMark: 256 * 1024,
      read: () => {
        if (this.raw?.stream !== stream) return;
        this.raw.wanted = true;
        this.pump();
      },
      destroy: (error, callback) => {
        // Abandoning a body half-read leaves the stream out of sync: the connection is unusable.
        if (this.raw?.stream === stream) {
          this.raw = undefined;
          this.socket.destroy();
        }
        callback(error);
      },
    });
    this.raw = { stream, total: length, remaining: length, wanted: false };
    this.pump();
    return stream;
  }

  async send(message: Out): Promise<void> {
    await this.write(encodeFrame(message, this.maxFrameBytes));
  }

  /**
   * Writes raw bytes (a file body), waiting for `drain` once `writeBufferBytes` are queued beyond the
   * kernel's buffers, so a slow reader costs a bounded amount of memory.
   * A reader that takes nothing for `writeTimeoutMs` gets its connection closed.
   * `onWritten` is called once the socket is done with `chunk` (never, if the connection fails first).
   */
  async write(chunk: Buffer | Uint8Array, onWritten?: () => void): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) throw this.closedError();
    // `onWritten` runs once the socket no longer needs `chunk` (so its memory may be reused), and only then.
    const written = onWritten && ((error?: Error | null) => error || onWritten());
    if (!this.socket.write(chunk, written) && this.socket.writableLength >= this.writeBufferBytes) await this.drained();
  }

  /**
   * Sends an error frame (best effort) and closes the connection; only the first call says anything.
   * A local condition (our disk, our timer) travels as INTERNAL: the other side is told we failed, not why.
   */
  fail(error: unknown, id: number | null = null): Promise<void> {
    this.failing ??= (async () => {
      if (!this.isClosed && this.socket.writable) {
        const { code, message } = wireErrorOf(error);
        this.socket.end(encodeFrame({ type: 'error', id, code, message: message.slice(0, 1000) }));
      }
      const timer = setTimeout(() => this.socket.destroy(), 2_000);
      await this.whenClosed;
      clearTimeout(timer);
    })();
    return this.failing;
  }

  /** Half-closes after everything written is flushed, and waits for the close. */
  async end(): Promise<void> {
    if (!this.isClosed) this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 2_000);
    await this.whenClosed;
    clearTimeout(timer);
  }

  destroy(error?: Error): void {
    this.socket.destroy(error);
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.socket.destroy();
        reject(new P2PError('TIMEOUT', `${this.describePeer()} read nothing for ${formatMs(this.writeTimeoutMs)}; closed the connection`));
      }, this.writeTimeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(this.closedError());
      };
      this.socket.on('drain', onDrain);
      this.socket.on('close', onClose);
    });
  }

  private closedError(): P2PError {
    const reason = this.socketError ? `: ${this.socketError.message}` : '';
    return new P2PError('CONNECTION_CLOSED', `connection closed by ${this.describePeer()}${reason}`);
  }

  private describePeer(): string {
    const { remoteAddress, remotePort } = this.socket;
    return remoteAddress ? `${remoteAddress}:${remotePort}` : 'the other side';
  }

  private pump(): void {
    if (this.raw) this.pumpRaw(this.raw);
    else if (this.waiter) this.pumpFrame(this.waiter);
    this.updateFlow();
  }

  /** Answers a frame that cannot be accepted, then hands the error back for the reader to throw. */
  private violation(error: P2PError): P2PError {
    if (VIOLATIONS.has(error.code)) void this.fail(error);
    return error;
  }

  private pumpFrame(waiter: NonNullable<typeof this.waiter>): void {
    let frame: { value: unknown } | undefined;
    try {
      frame = this.decoder.readFrame();
    } catch (error) {
      this.waiter = undefined;
      waiter.reject(error instanceof P2PError ? this.violation(error) : (error as Error));
      return;
    }
    if (frame) {
      this.waiter = undefined;
      waiter.resolve(frame.value);
    } else if (this.closed) {
      this.waiter = undefined;
      waiter.reject(this.closedError());
    }
  }

  private pumpRaw(raw: RawRead): void {
    while (raw.wanted && raw.remaining > 0) {
      const chunk = this.decoder.readRaw(raw.remaining);
      if (!chunk) break;
      raw.remaining -= chunk.length;
      raw.wanted = raw.stream.push(chunk);
    }
    if (raw.remaining === 0) {
      this.raw = undefined;
      raw.stream.push(null);
    } else if (this.closed && this.decoder.bufferedBytes === 0) {
      this.raw = undefined;
      const received = raw.total - raw.remaining;
      raw.stream.destroy(
        new P2PError('CONNECTION_CLOSED', `connection closed after ${received} of ${raw.total} bytes`),
      );
    }
  }

  private updateFlow(): void {
    if (this.socket.destroyed) return;
    const wantsBytes = this.waiter !== undefined || this.raw?.wanted === true;
    if (wantsBytes || this.decoder.bufferedBytes < this.readAheadBytes) this.socket.resume();
    else this.socket.pause();
  }
}
