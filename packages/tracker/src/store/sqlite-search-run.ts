import type Database from 'better-sqlite3';
import type { RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { SearchRanking } from './search-ranking.js';
import { matchExpressionOf, POPULAR_HOLDERS } from './sqlite-search.js';

/** A search's page, or how many candidates it went through before its deadline. */
export type SearchOutcome = { entries: RankedEntry[] } | { timedOutAfter: number };

type Candidate = [name: string, sha256: string, size: number, holders: number, firewalled: number];

/**
 * Rows of the most held contents a search reads in ranking order before it asks the index instead. A
 * broad query (`the` is in a third of all names) fills its page from the first few hundred and stops
 * there; a rare one pays these rows (a few milliseconds) and then the index, which narrows it well.
 */
export const ORDERED_SCAN_ROWS = 5_000;

/**
 * Every this many rows of the ordered read, a search that is not on course to fill its page within
 * ORDERED_SCAN_ROWS gives up on it and asks the index: a rare query pays a few hundred rows, not 5 000
 * (which cost it 20 ms more at the 99th percentile in the search bench).
 */
const ORDERED_SCAN_CHECK_ROWS = 200;

/** Which ways a search may take to its page (all of them as shipped; tests compare them). */
export interface SearchPaths {
  /** Rows of the most held contents read in ranking order first (none: 0). */
  orderedRows: number;
  /** Whether the index of the popular contents is asked before the whole index. */
  popular: boolean;
}

export const SHIPPED_PATHS: SearchPaths = { orderedRows: ORDERED_SCAN_ROWS, popular: true };

interface Statements {
  matching: Database.Statement<[string, number, number], Candidate>;
  matchingPopular: Database.Statement<[string, number, number], Candidate>;
  mostHeld: Database.Statement<[number], Candidate>;
}

const statements = new WeakMap<Database.Database, Statements>();

function statementsOf(db: Database.Database): Statements {
  let prepared = statements.get(db);
  if (!prepared) {
    // Raw rows (arrays): a broad search reads a hundred thousand of them.
    prepared = {
      matching: db
        .prepare<[string, number, number], Candidate>(
          `SELECT c.name, c.sha256, c.size, c.holders, c.firewalled FROM search_index s JOIN contents c ON c.id = s.rowid
           WHERE search_index MATCH ? AND c.size BETWEEN ? AND ?`,
        )
        .raw(true),
      matchingPopular: db
        .prepare<[string, number, number], Candidate>(
          `SELECT c.name, c.sha256, c.size, c.holders, c.firewalled FROM popular_index s JOIN contents c ON c.id = s.rowid
           WHERE popular_index MATCH ? AND c.size BETWEEN ? AND ?`,
        )
        .raw(true),
      // The ranking's own order within a rank (contents_by_holders covers it: no table lookups).
      mostHeld: db.prepare<[number], Candidate>('SELECT name, sha256, size, holders, firewalled FROM contents ORDER BY holders DESC, name, sha256 LIMIT ?').raw(true),
    };
    statements.set(db, prepared);
  }
  return prepared;
}

/**
 * One search of a SQLite tracker's database, decided by SearchRanking (what the query means).
 * - First the most held contents in ranking order: once the page is full and the next content could not
 *   make it even at the best rank, no later one can, and the search is done without an index.
 * - Otherwise the index of the popular contents (held by POPULAR_HOLDERS or more): if its page is full
 *   and no content held by fewer could make it, that is the page.
 * - Otherwise (the query is rare, or the page deep) the whole FTS5 index narrows to candidates, in no
 *   useful order, and every one is offered.
 * It runs on a search thread (sqlite-search-worker.ts) with a connection of its own, so however many
 * candidates a broad query has, the tracker's event loop is not held.
 */
export function runSearch(db: Database.Database, query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number, paths = SHIPPED_PATHS): SearchOutcome {
  const { matching, matchingPopular, mostHeld } = statementsOf(db);
  if (paths.orderedRows > 0) {
    const ordered = offerAll(new SearchRanking(query, after, limit, deadline), mostHeld.iterate(paths.orderedRows), { rows: paths.orderedRows, limit });
    if (ordered.decided) return ordered.outcome;
  }
  const match = [matchExpressionOf(query), query.minSize ?? 0, query.maxSize ?? Number.MAX_SAFE_INTEGER] as const;
  if (paths.popular) {
    const ranking = new SearchRanking(query, after, limit, deadline);
    const popular = offerAll(ranking, matchingPopular.iterate(...match));
    if ('timedOutAfter' in popular.outcome || !ranking.couldTake(POPULAR_HOLDERS - 1)) return popular.outcome;
  }
  return offerAll(new SearchRanking(query, after, limit, deadline), matching.iterate(...match)).outcome;
}

/**
 * Offers `candidates` to `ranking`. Given `ordered` (they are at most `rows`, in ranking order within a
 * rank), the page is decided when a candidate could not make it, or when fewer came (every content was
 * offered); it is given up when the page is not on course to fill (ORDERED_SCAN_CHECK_ROWS). A search out
 * of time is decided too.
 */
function offerAll(ranking: SearchRanking, candidates: IterableIterator<Candidate>, ordered?: { rows: number; limit: number }): { outcome: SearchOutcome; decided: boolean } {
  let read = 0;
  try {
    for (const [name, sha256, size, holders, firewalled] of candidates) {
      read++;
      if (!ordered) {
        ranking.offer(name, sha256, size, holders, firewalled);
        continue;
      }
      if (!ranking.offer(name, sha256, size, holders, firewalled)) return { outcome: { entries: ranking.entries }, decided: true };
      const offCourse = read % ORDERED_SCAN_CHECK_ROWS === 0 && ranking.entries.length * ordered.rows < ordered.limit * read;
      if (offCourse) return { outcome: { entries: ranking.entries }, decided: false };
    }
  } catch (error) {
    if (ranking.timedOut(error)) return { outcome: { timedOutAfter: ranking.candidatesRead }, decided: true };
    throw error;
  } finally {
    candidates.return?.();
  }
  return { outcome: { entries: ranking.entries }, decided: !ordered || read < ordered.rows };
}
