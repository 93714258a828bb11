import { compareCodePoints, type ListCursor, type ListEntry } from '@p2pservice/protocol';
import type { FoundHolder, PeerId } from './store.js';

/**
 * Most shares (peer rows) of one holder a `holder_files` page reads, each up to a page of rows: one person
 * shares from a few at most, and a page stays a few thousand rows whatever an identity opened.
 */
export const MAX_SHARES_PER_HOLDER = 16;

/** The peer rows to read for `maxHolders` holders. */
export const maxPeerRows = (maxHolders: number) => maxHolders * MAX_SHARES_PER_HOLDER;

/** A peer row as both stores read it for a selector. */
export interface HolderPeerRow {
  id: PeerId;
  identity: string;
  member: string | null;
}

/** Rows grouped by identity, in identity order: one identity may share from several peers (trackers, folders). */
export function foundHolders(rows: readonly HolderPeerRow[]): FoundHolder[] {
  const byIdentity = new Map<string, FoundHolder>();
  for (const row of rows) {
    const found = byIdentity.get(row.identity) ?? { identity: row.identity, ...(row.member !== null && { member: row.member }), peers: [] };
    if (found.peers.length < MAX_SHARES_PER_HOLDER) found.peers.push(row.id);
    byIdentity.set(row.identity, found);
  }
  return [...byIdentity.values()].sort((a, b) => compareCodePoints(a.identity, b.identity));
}

const compareRows = (a: ListCursor, b: ListCursor) => compareCodePoints(a.name, b.name) || compareCodePoints(a.sha256, b.sha256);

/**
 * One page of a holder's files from each of its peers' own pages (each read from the cursor's name on,
 * `limit` + 1 rows): merged in list order, each content once, only those after the cursor.
 */
export function mergeHolderPages(pages: readonly ListEntry[][], after: ListCursor | null, limit: number): ListEntry[] {
  const rows = pages.flat().filter((row) => after === null || compareRows(row, after) > 0);
  rows.sort(compareRows);
  const page: ListEntry[] = [];
  for (const row of rows) {
    const last = page.at(-1);
    if (last !== undefined && compareRows(last, row) === 0) continue;
    page.push(row);
    if (page.length === limit) break;
  }
  return page;
}
