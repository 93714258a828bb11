import { type FramedConnection, HELD_WAIT_MS, type Held, type HolderReply, type HolderRequest, pieceCountOf } from '@p2pservice/protocol';
import { sleep } from '../util/sleep.js';
import type { PartialContent } from './partial-content.js';

/** How long a holder gathers news of verified pieces before it answers a `held` that waited for them. */
export const HELD_BATCH_MS = 100;

/** What a holder has of a content: a shared file (every piece, and which are fresh), or a download in progress. */
export type HeldContent = { shared: true; size: number; fresh: Buffer } | { shared: false; partial: PartialContent };

/**
 * Answers `held` (feature `partial`): a shared file has every piece; a download in progress those verified
 * so far, once it has more than `after` (or after HELD_WAIT_MS). No slot is taken: the answer is small.
 */
export async function answerHeld(connection: FramedConnection<HolderRequest, HolderReply>, request: Held, content: HeldContent | undefined): Promise<void> {
  if (!content) return connection.send({ type: 'error', id: request.id, code: 'NOT_FOUND', message: `no shared or downloading file has sha256 ${request.sha256}` });
  if (content.shared) {
    const count = pieceCountOf(content.size);
    const bitfield = Buffer.alloc(Math.ceil(count / 8), 0xff);
    // Bits past the last piece stay clear: the same bytes as a downloader's own record of a complete part.
    if (count % 8 !== 0) bitfield[bitfield.length - 1] = (1 << (count % 8)) - 1;
    const { id, sha256 } = request;
    return connection.send({ type: 'held_pieces', id, sha256, count, complete: true, bitfield: bitfield.toString('base64'), fresh: content.fresh.toString('base64') });
  }
  const { partial } = content;
  if (request.after !== undefined && partial.verifiedCount() === request.after) {
    await Promise.race([partial.whenMore(request.after, HELD_WAIT_MS), connection.whenClosed]);
    // News of one piece is soon followed by the next: a moment's wait tells of several in one answer.
    if (partial.verifiedCount() !== request.after) await Promise.race([sleep(HELD_BATCH_MS), connection.whenClosed]);
  }
  if (connection.isClosed) return;
  const count = partial.verifiedCount();
  const complete = count === partial.geometry.pieceCount;
  await connection.send({ type: 'held_pieces', id: request.id, sha256: request.sha256, count, complete, bitfield: partial.bitfield().toString('base64') });
}

/** The first piece of [offset, offset + length) that `partial` has not verified, if any. */
export function missingPiece(partial: PartialContent, offset: number, length: number): number | undefined {
  const { pieceSize } = partial.geometry;
  const first = Math.floor(offset / pieceSize);
  const last = length === 0 ? first : Math.floor((offset + length - 1) / pieceSize);
  for (let piece = first; piece <= last; piece++) if (!partial.isVerified(piece)) return piece;
  return undefined;
}
