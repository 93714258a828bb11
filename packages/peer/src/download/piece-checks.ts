import { type ContentHolder, formatAddress, P2PError, PieceHasher } from '@p2pservice/protocol';
import { ioError } from '../util/fs-errors.js';
import { failureOf, isOwnFailure } from './holder-failures.js';
import type { PartFile } from './part-file.js';
import { askHolder } from './holder-connection.js';
import type { SwarmOptions } from './swarm.js';
import type { WholeHash } from './whole-hash.js';

/**
 * The piece layer of the content under `root`, from the first holder in `holders` that sends one that
 * hashes up to the root (a one-piece file's layer is its root). Holders that fail are noted.
 */
export async function fetchLayer(part: PartFile, holders: readonly ContentHolder[], root: string, options: SwarmOptions): Promise<Buffer[] | undefined> {
  if (part.geometry.pieceCount === 1) return [Buffer.from(root, 'hex')];
  for (const holder of holders) {
    if (options.signal?.aborted) throw new P2PError('INTERRUPTED', 'interrupted');
    const label = formatAddress(holder);
    try {
      const { session, answer: layer } = await askHolder(holder, options.access, options.stallMs, (s) => s.pieces(part.content.sha256, part.content.size, root));
      // The same holder is most likely among the sources of the bytes next: its connection is kept.
      if (options.access.holderPool) options.access.holderPool.give(holder, session);
      else session.close().catch(() => undefined);
      return layer;
    } catch (error) {
      if (isOwnFailure(error)) throw error;
      options.failures.add(failureOf(label, error as P2PError));
    }
  }
  return undefined;
}

/**
 * Checks, from disk, the pieces an earlier run left in the part: those that hash to their place in the
 * layer count as received; the others are fetched again.
 */
export async function verifyLeftBehind(part: PartFile, layer: readonly Buffer[], whole: WholeHash, pieces: readonly number[]): Promise<void> {
  for (const piece of pieces) {
    let hash: Buffer | undefined;
    const hasher = new PieceHasher(part.geometry, piece, (_index, h) => (hash = h));
    const bytes = await part.read(part.geometry.offsetOf(piece), part.geometry.lengthOf(piece)).catch((error: unknown) => {
      throw ioError(`cannot read ${part.paths.part}`, error);
    });
    hasher.update(bytes);
    if (hash?.equals(layer[piece]!)) part.markVerified(piece);
  }
  whole.advance();
}
