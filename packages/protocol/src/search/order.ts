import type { ListEntry, SearchCursor } from '../wire/messages.js';
import type { MatchRank } from './match.js';

/** A search result with its rank: what the order is decided on. */
export interface RankedEntry extends ListEntry {
  rank: MatchRank;
}

/** Compares strings by code point, which is the byte order of their UTF-8 (the order `list` uses). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after the rest of the BMP in code point order.
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The search order (best first): names with every word in the file's own name, then more holders, then
 * name and sha256 in list order. Total, so pages never overlap.
 */
export function compareRanked(a: SearchCursor, b: SearchCursor): number {
  return a.rank - b.rank || b.holders - a.holders || compareCodePoints(a.name, b.name) || compareCodePoints(a.sha256, b.sha256);
}

export function cursorOfRanked(entry: RankedEntry): SearchCursor {
  return { rank: entry.rank, holders: entry.holders, name: entry.name, sha256: entry.sha256 };
}
