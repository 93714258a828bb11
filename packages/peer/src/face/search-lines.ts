import { parseSearchQuery, SearchMatcher, type SearchRequest } from '@p2pservice/protocol';
import type { PeerNode } from '../node.js';
import { highlighter } from './colour.js';
import { searchTable, type Write } from './report.js';
import type { ShownResults } from './shown-results.js';

export interface ShowSearch {
  node: PeerNode;
  request: SearchRequest;
  limit: number;
  out: Write;
  /** Where the numbered rows are remembered for `peer get N` and the menu. */
  shown: ShownResults;
  colour: boolean;
  /** What to do when the page is full: how this face shows more. */
  moreHint: string;
}

/** Searches, prints the numbered table (matches highlighted in colour), then remembers its rows. */
export async function showSearch({ node, request, limit, out, shown, colour, moreHint }: ShowSearch): Promise<void> {
  // Parsed here too, for the highlighting; a mistyped query fails before any connection.
  const matcher = new SearchMatcher(parseSearchQuery(request.query, request));
  const found = await node.search(request, limit);
  out(searchTable(request.query, found, limit, highlighter(matcher, colour), moreHint));
  await shown.remember(`search for "${request.query}"`, found);
}
