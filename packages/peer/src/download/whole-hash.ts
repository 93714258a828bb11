import { FileHashSession } from '../hashing/hash-pool.js';
import type { PartFile } from './part-file.js';

/**
 * The SHA-256 of the whole content, which names it and is checked at the end whatever the pieces said,
 * and the checking of arriving pieces against the layer: both on one hashing thread, so that the main
 * thread only moves bytes. The whole-file hash must see the bytes in order, while pieces are verified in
 * any order: a piece that checks and follows those already hashed goes in from memory, as it arrives;
 * any other verified piece is read back from the part once the ones before it are in (`advance`).
 */
export class WholeHash {
  /** Pieces handed to the hashing thread so far: all pieces before this one, in order. */
  private next = 0;
  private readonly session: FileHashSession;

  constructor(
    private readonly part: PartFile,
    layer: readonly Buffer[],
  ) {
    this.session = new FileHashSession(part.paths.part, { size: part.content.size, layer });
  }

  /** The verdict on each whole piece in `bytes` (shared memory), the content from `position` on. */
  checkPieces(bytes: Buffer, position: number): Promise<boolean[]> {
    return this.session.checkPieces(bytes, position);
  }

  /**
   * Hands the hashing thread every verified piece that now follows those it has, as one range: a message
   * per piece was thousands a gigabyte, most of them for pieces the thread had already taken from memory.
   */
  advance(): void {
    const { geometry } = this.part;
    const first = this.next;
    while (this.next < geometry.pieceCount && this.part.isVerified(this.next)) this.next++;
    if (this.next === first) return;
    const start = geometry.offsetOf(first);
    this.session.add(start, geometry.offsetOf(this.next - 1) + geometry.lengthOf(this.next - 1) - start);
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
