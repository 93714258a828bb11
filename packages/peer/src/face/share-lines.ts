import type { PeerNode } from '../node.js';
import { shareUpdatedLine, trackerBackLine, trackerLostLine, trustedLine, type Write } from './report.js';

/** Prints, as one line each, what happens to a node's shares while they run (both CLIs' words). */
export function printShareEvents(node: PeerNode, errors: Write): void {
  node.on('tracker-lost', (share, reconnecting) => errors(trackerLostLine(share, reconnecting)));
  node.on('tracker-back', (share, previous) => errors(trackerBackLine(share, previous)));
  node.on('share-updated', (share, change) => errors(shareUpdatedLine(share, change)));
  node.on('warning', (message) => errors(`peer: ${message}\n`));
  node.on('tracker-trusted', (tracker, id) => errors(trustedLine(tracker, id)));
}
