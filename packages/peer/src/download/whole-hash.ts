import { createHash, type Hash } from 'node:crypto';
import type { PartFile } from './part-file.js';

/** Bytes read at a time when hashing pieces back from the part. */
const READ_BYTES = 1024 * 1024;

/**
 * The SHA-256 of the whole content, which names it and is checked at the end whatever the pieces said.
 * It must see the bytes in order, while pieces arrive in any order: a source streaming the very next
 * piece feeds it straight from the network (with a copy of the state to fall back to if that piece fails
 * its check); pieces verified out of order are read back from the part once the ones before are in.
 */
export class WholeHash {
  private hash: Hash = createHash('sha256');
  /** Pieces hashed so far: all pieces before this one, in order. */
  private next = 0;
  /** The source feeding the next piece from the network now, and the state to restore if it fails. */
  private feeder: { owner: object; checkpoint: Hash } | undefined;
  private catchingUp: Promise<void> | undefined;

  constructor(private readonly part: PartFile) {}

  get hashedPieces(): number {
    return this.next;
  }

  /** Whether `owner`, about to stream piece `piece`, may feed it: only the very next piece, one feeder at a time. */
  claim(owner: object, piece: number): boolean {
    if (this.feeder || this.catchingUp || piece !== this.next) return false;
    this.feeder = { owner, checkpoint: this.hash.copy() };
    return true;
  }

  feeds(owner: object): boolean {
    return this.feeder?.owner === owner;
  }

  update(owner: object, chunk: Buffer): void {
    if (this.feeder?.owner === owner) this.hash.update(chunk);
  }

  /** The fed piece passed its check: the hash moves past it, and the feeder may claim the next one. */
  accept(owner: object): void {
    if (this.feeder?.owner !== owner) return;
    this.feeder = undefined;
    this.next++;
  }

  /** The fed piece failed (or its source stopped mid-piece): back to the state before it. */
  reject(owner: object): void {
    if (this.feeder?.owner !== owner) return;
    this.hash = this.feeder.checkpoint;
    this.feeder = undefined;
  }

  /**
   * Hashes, from the part, the verified pieces that now follow the hashed ones. Runs in the background;
   * `settled()` waits for it. A read error surfaces there.
   */
  catchUp(): void {
    if (this.catchingUp || this.feeder || !this.part.isVerified(this.next)) return;
    this.catchingUp = (async () => {
      try {
        while (this.next < this.part.geometry.pieceCount && this.part.isVerified(this.next)) {
          const start = this.part.geometry.offsetOf(this.next);
          const end = start + this.part.geometry.lengthOf(this.next);
          for (let at = start; at < end; at += READ_BYTES) this.hash.update(await this.part.read(at, Math.min(READ_BYTES, end - at)));
          this.next++;
        }
      } finally {
        this.catchingUp = undefined;
      }
    })();
    this.catchingUp.catch(() => undefined);
  }

  /** Waits for the background catch-up, then catches up the rest; the digest once every piece is in. */
  async digest(): Promise<string> {
    for (;;) {
      await this.catchingUp;
      if (this.next === this.part.geometry.pieceCount) return this.hash.digest('hex');
      if (!this.part.isVerified(this.next)) throw new Error(`piece ${this.next} is not verified yet`);
      this.catchUp();
    }
  }
}
