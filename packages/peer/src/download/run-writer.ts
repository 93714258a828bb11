import { P2PError } from '@p2pservice/protocol';
import { ioError } from '../util/fs-errors.js';
import type { PartFile } from './part-file.js';
import type { WholeHash } from './whole-hash.js';

/** About how many bytes one staging slot holds: whole pieces, at least one. */
const SLOT_TARGET_BYTES = 1024 * 1024;

/** Slots one source stages in: one being filled while others are written and checked. */
export const SLOTS_PER_SOURCE = 4;

/**
 * The staging memory of one source: a few slots of whole pieces, shared with the hashing thread, so that
 * the pieces are checked where they lie (no copy to the thread) while the same bytes go to disk. A source
 * keeps its slots from run to run.
 */
export class StagingSlots {
  readonly free: Buffer[] = [];
  /**
   * Bytes of this source's pieces that checked. A source gets that many bytes (and one piece more) ahead
   * of the checks, up to all its slots: a holder that lies from its first piece costs one piece, as when
   * every piece was checked before the next byte was taken; an honest one is soon a few megabytes ahead.
   */
  verifiedBytes = 0;

  constructor(part: PartFile) {
    const { pieceSize } = part.geometry;
    const slotBytes = pieceSize * Math.max(1, Math.floor(SLOT_TARGET_BYTES / pieceSize));
    // A small file needs no more than itself.
    const bytes = Math.max(1, Math.min(slotBytes, part.content.size));
    for (let i = 0; i < SLOTS_PER_SOURCE; i++) this.free.push(Buffer.from(new SharedArrayBuffer(bytes)));
  }
}

/**
 * A slot that holds whole pieces is sent on its way after this long even if not full: a slow holder's
 * pieces are checked, counted and kept (for a resume) as they come, not a megabyte at a time.
 */
const SLOT_MAX_AGE_MS = 250;

interface Slot {
  view: Buffer;
  /** When its first byte came. */
  since: number;
  /** Where the slot's first byte belongs in the content: always a piece boundary. */
  start: number;
  used: number;
  written: boolean;
  verdicts: boolean[] | undefined;
}

/**
 * Where one run's bytes go, in the order they arrive: copied into a staging slot; a full slot is written
 * to the part at its offset and, at the same time, its pieces are checked on the hashing thread. A piece
 * counts (`onVerified`) once it is both on disk and checked. The main thread only copies and writes.
 * A piece with the wrong hash, a write that fails or the hashing thread failing stops the run: the
 * failure goes to `onFailure` at once (to stop the stream) and is thrown by `put` and `settled`.
 */
export class RunWriter {
  private filling: Slot | undefined;
  private readonly pending: Slot[] = [];
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly part: PartFile,
    private readonly whole: WholeHash,
    private readonly slots: StagingSlots,
    private readonly handlers: {
      onVerified: (piece: number) => void;
      /** After a slot's pieces were counted. */
      onSettled: () => void;
      /** The piece `piece` did not check: the error to stop with. */
      badPiece: (piece: number) => Error;
      onFailure: (error: unknown) => void;
    },
  ) {}

  /** Takes `chunk`, the content's bytes from `position` on; resolves once it is staged (slots may be full). */
  async put(chunk: Buffer, position: number): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.failure !== undefined) throw this.failure;
      const ahead = this.allowance() - this.unchecked();
      if (ahead <= 0) {
        // As far ahead of the checks as this source may be: what it staged goes to be checked, and we wait.
        if (this.filling) this.flushOld(this.filling);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      if (!this.filling) {
        const view = this.slots.free.pop();
        if (!view) {
          await new Promise<void>((resolve) => this.waiters.push(resolve));
          continue;
        }
        this.filling = { view, since: performance.now(), start: position + at, used: 0, written: false, verdicts: undefined };
      }
      const slot = this.filling;
      const n = Math.min(chunk.length - at, slot.view.length - slot.used, ahead);
      chunk.copy(slot.view, slot.used, at, at + n);
      slot.used += n;
      at += n;
      if (slot.used === slot.view.length) this.flush();
      else if (performance.now() - slot.since >= SLOT_MAX_AGE_MS) this.flushOld(slot);
    }
  }

  /** Bytes this source may have staged or in checking at once (see StagingSlots.verifiedBytes). */
  private allowance(): number {
    return this.part.geometry.pieceSize + this.slots.verifiedBytes;
  }

  /** Bytes staged or being written and checked, not yet counted. */
  private unchecked(): number {
    let bytes = this.filling?.used ?? 0;
    for (const slot of this.pending) bytes += slot.used;
    return bytes;
  }

  /** Sends the whole pieces of `slot` on their way; the bytes of the piece still coming move to a fresh slot. */
  private flushOld(slot: Slot): void {
    const { pieceSize } = this.part.geometry;
    const end = slot.start + slot.used;
    const wholeEnd = Math.floor(end / pieceSize) * pieceSize;
    if (wholeEnd <= slot.start) return;
    if (wholeEnd === end) return this.flush();
    const next = this.slots.free.pop();
    // No slot free: the slot fills up instead (it is then sent on its way as full).
    if (!next) return;
    slot.view.copy(next, 0, wholeEnd - slot.start, slot.used);
    slot.used = wholeEnd - slot.start;
    this.flush();
    this.filling = { view: next, since: performance.now(), start: wholeEnd, used: end - wholeEnd, written: false, verdicts: undefined };
  }

  /**
   * Sends the slot being filled on its way, with the whole pieces it holds (the run ended, or was
   * shortened); bytes of a piece not yet complete are dropped.
   */
  flush(): void {
    const slot = this.filling;
    if (!slot) return;
    this.filling = undefined;
    const { geometry, content } = this.part;
    const end = slot.start + slot.used;
    const wholeEnd = end === content.size ? end : Math.floor(end / geometry.pieceSize) * geometry.pieceSize;
    if (wholeEnd <= slot.start) return this.release(slot.view);
    const bytes = slot.view.subarray(0, wholeEnd - slot.start);
    this.pending.push(slot);
    // One write at a time: several in flight turned every TLS read into a write of its own (BENCHMARKS).
    this.writes = this.writes.then(() =>
      this.part.writeAt([bytes], slot.start).then(
        () => {
          slot.written = true;
          this.settle();
        },
        (error: unknown) => this.fail(ioError(`cannot write ${this.part.paths.part}`, error)),
      ),
    );
    this.whole.checkPieces(bytes, slot.start).then(
      (verdicts) => {
        slot.verdicts = verdicts;
        this.settle();
      },
      // Ours, not the holder's: the download stops (IO_ERROR is one of our own failures).
      (error: unknown) => this.fail(new P2PError('IO_ERROR', `cannot check pieces: the hashing thread failed: ${(error as Error).message}`)),
    );
  }

  /** Counts the pieces of every slot, in order, that is both written and checked; frees those slots. */
  private settle(): void {
    let counted = false;
    while (this.pending[0]?.written && this.pending[0].verdicts) {
      const slot = this.pending.shift()!;
      const first = Math.floor(slot.start / this.part.geometry.pieceSize);
      for (const [i, ok] of slot.verdicts!.entries()) {
        if (ok) {
          this.slots.verifiedBytes += this.part.geometry.lengthOf(first + i);
          this.handlers.onVerified(first + i);
        } else this.fail(this.handlers.badPiece(first + i));
      }
      counted = true;
      this.release(slot.view);
    }
    if (counted) this.handlers.onSettled();
  }

  private release(view: Buffer): void {
    this.slots.free.push(view);
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.handlers.onFailure(error);
    this.wake();
  }

  /**
   * Resolves once every slot sent on its way has been written and checked (and its slot is free again);
   * throws the run's first failure.
   */
  async settled(): Promise<void> {
    while (this.pending.length > 0 && this.failure === undefined) await new Promise<void>((resolve) => this.waiters.push(resolve));
    // After a failure, the writes and checks still in flight finish before their slots are used again.
    await this.writes.catch(() => undefined);
    if (this.failure !== undefined) throw this.failure;
  }
}
