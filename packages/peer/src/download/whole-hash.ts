import { FileHashSession } from '../hashing/hash-pool.js';
import type { PartFile } from './part-file.js';

/**
 * The SHA-256 of the whole content, which names it and is checked at the end whatever the pieces said.
 * It must see the bytes in order, while pieces are verified in any order: each verified piece that
 * follows the ones already hashed is read back from the part by a hashing thread (the bytes were just
 * written, so they come from the page cache), which also means that what is checked is what is on disk.
 */
export class WholeHash {
  /** Pieces handed to the hashing thread so far: all pieces before this one, in order. */
  private next = 0;
  private readonly session: FileHashSession;

  constructor(private readonly part: PartFile) {
    this.session = new FileHashSession(part.paths.part);
  }

  /** Hands the hashing thread every verified piece that now follows those it has. */
  advance(): void {
    const { geometry } = this.part;
    while (this.next < geometry.pieceCount && this.part.isVerified(this.next)) {
      this.session.add(geometry.offsetOf(this.next), geometry.lengthOf(this.next));
      this.next++;
    }
  }

  /** The SHA-256 of the part, once every piece is verified. */
  async digest(): Promise<string> {
    this.advance();
    if (this.next !== this.part.geometry.pieceCount) throw new Error(`piece ${this.next} is not verified yet`);
    return this.session.digest();
  }

  close(): void {
    this.session.close();
  }
}
