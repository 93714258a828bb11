import { P2PError, type RankedEntry, type SearchCursor, SearchMatcher, type SearchQuery } from '@p2pservice/protocol';
import { RankedTop } from './ranked-top.js';

/** How many candidates are read between looks at the clock. */
const CANDIDATES_PER_CLOCK_CHECK = 256;

/**
 * One search's page being made, whatever index narrowed the candidates: each candidate is decided by
 * SearchMatcher (what the query means), the best `limit` after the cursor are kept, and the search is
 * stopped with SEARCH_TIMEOUT once it runs past its deadline.
 */
export class SearchRanking {
  private readonly matcher: SearchMatcher;
  private readonly top: RankedTop;
  private read = 0;

  constructor(
    query: SearchQuery,
    after: SearchCursor | null,
    limit: number,
    private readonly deadline: number,
  ) {
    this.matcher = new SearchMatcher(query);
    this.top = new RankedTop(limit, after);
  }

  /**
   * Considers one candidate. Returns false when it could not make the page even at the best rank: if
   * candidates come most holders first (then by name and sha256), no later one can either.
   */
  offer(name: string, sha256: string, size: number, holders: number, firewalled = 0): boolean {
    if (++this.read % CANDIDATES_PER_CLOCK_CHECK === 0) this.checkClock();
    if (!this.top.mightTake(holders, name, sha256)) return false;
    const rank = this.matcher.rank(name, size);
    if (rank !== undefined) this.top.offer({ name, sha256, size, holders, rank, ...(firewalled > 0 && { firewalled }) });
    return true;
  }

  /** Whether a content held by `holders` peers could still make the page, at the best rank and name. */
  couldTake(holders: number): boolean {
    return this.top.mightTake(holders, '', '');
  }

  /** Throws SEARCH_TIMEOUT if the deadline has passed. */
  checkClock(): void {
    if (Date.now() >= this.deadline) throw this.timeout();
  }

  timeout(): P2PError {
    return searchTimeout(this.read);
  }

  /** Whether `error` is this search's timeout. */
  timedOut(error: unknown): boolean {
    return error instanceof P2PError && error.code === 'SEARCH_TIMEOUT';
  }

  /** Candidates looked at so far. */
  get candidatesRead(): number {
    return this.read;
  }

  /** The page, best first. */
  get entries(): RankedEntry[] {
    return this.top.entries;
  }
}

/** SEARCH_TIMEOUT for a search that went through `read` candidates. */
export function searchTimeout(read: number): P2PError {
  return new P2PError('SEARCH_TIMEOUT', `the search went through ${read} candidates and ran out of time`, 'add a word, or use longer, rarer words');
}
