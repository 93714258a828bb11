import { type Content, P2PError } from '@p2pservice/protocol';
import type { PeerNode } from '../node.js';
import { type PickedRow, pickedWords } from './shown-results.js';

/** The holders of the exact content a picked row showed; a row nobody shares any more is stale. */
export async function resolvePicked(node: PeerNode, row: PickedRow): Promise<Content> {
  try {
    return await node.resolve(row.name, row.sha256);
  } catch (error) {
    if (!(error instanceof P2PError && error.code === 'NOT_FOUND')) throw error;
    throw new P2PError('NOT_FOUND', `${pickedWords(row)} is stale: nobody online shares that content under that name any more`, `its ${row.source} is out of date: run it again and pick from the new results`);
  }
}
