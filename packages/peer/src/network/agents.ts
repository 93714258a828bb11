import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../util/package-root.js';

/** This package's version, read from its package.json (the one place it is written). */
export const PEER_VERSION: string = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8'))).version;

/**
 * What a peer calls itself in each conversation, so that a tracker's or holder's log tells a sharing
 * peer from a download or a `peer list`.
 */
export const AGENTS = {
  /** A sharing peer's tracker connection. */
  share: `p2pservice-peer/${PEER_VERSION} (share)`,
  /** A peer's file server, in its welcome. */
  holder: `p2pservice-peer/${PEER_VERSION} (holder)`,
  /** A download: its tracker lookups and its fetches. */
  download: `p2pservice-peer/${PEER_VERSION} (download)`,
  /** A downloading peer's tracker connection, offering what it downloads to others (LAN party). */
  party: `p2pservice-peer/${PEER_VERSION} (party)`,
  /** Listing the network. */
  list: `p2pservice-peer/${PEER_VERSION} (list)`,
  /** The wishlist's searches, watched by the tracker. */
  want: `p2pservice-peer/${PEER_VERSION} (want)`,
  /** Listing page by page and searching, on a session kept open between questions. */
  browse: `p2pservice-peer/${PEER_VERSION} (browse)`,
} as const;
