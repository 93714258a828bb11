import { foldText, foldWithOrigins, isWordStart } from './fold.js';
import type { SearchQuery, SearchTerm } from './query.js';

/**
 * What a query means for one name: whether it matches, how well, and where. Every store answers a search
 * by narrowing with its index and deciding with this, so the language means the same on every backend,
 * and a peer highlights exactly what the tracker matched.
 */

/** Where `term` is found in folded `text` at or after `from`, or -1. */
export function findTerm(text: string, term: SearchTerm, from = 0): number {
  for (let at = text.indexOf(term.text, from); at !== -1; at = text.indexOf(term.text, at + 1)) {
    if (!term.wordStart || isWordStart(text, at)) return at;
  }
  return -1;
}

/**
 * How well a name matches, lower is better: 0 when every word and phrase is in the file's own name (its
 * last segment), 1 when some are found only in folder names.
 */
export type MatchRank = 0 | 1;

export class SearchMatcher {
  constructor(readonly query: SearchQuery) {}

  /** The rank of `name` (of `size` bytes), or undefined when it does not match. */
  rank(name: string, size: number): MatchRank | undefined {
    return this.rankFolded(foldText(name), size);
  }

  /** `rank` of a name folded already (foldText): for one name checked against many queries, folded once. */
  rankFolded(folded: string, size: number): MatchRank | undefined {
    const { query } = this;
    if (query.minSize !== undefined && size < query.minSize) return undefined;
    if (query.maxSize !== undefined && size > query.maxSize) return undefined;
    const base = folded.slice(folded.lastIndexOf('/') + 1);
    if (query.extensions.length > 0 && !query.extensions.some((ext) => base.endsWith(`.${ext}`))) return undefined;
    for (const term of query.exclude) if (findTerm(folded, term) !== -1) return undefined;
    let rank: MatchRank = 0;
    for (const term of query.include) {
      if (findTerm(base, term) !== -1) continue;
      if (findTerm(folded, term) === -1) return undefined;
      rank = 1;
    }
    return rank;
  }

  /** The parts of `name` its included words matched, as sorted, disjoint [start, end) ranges of `name`. */
  highlights(name: string): Array<[number, number]> {
    const { folded, origins } = foldWithOrigins(name);
    const marked: Array<[number, number]> = [];
    for (const term of this.query.include) {
      for (let at = findTerm(folded, term); at !== -1; at = findTerm(folded, term, at + term.text.length)) {
        marked.push([origins[at]!, nextOrigin(origins, at + term.text.length - 1)]);
      }
    }
    marked.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const range of marked) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([...range]);
    }
    return merged;
  }
}

/** The end, in the original text, of the character that produced folded character `index`. */
function nextOrigin(origins: readonly number[], index: number): number {
  const start = origins[index]!;
  for (let i = index + 1; i < origins.length; i++) if (origins[i]! !== start) return origins[i]!;
  return origins[origins.length - 1]!;
}
