import type Database from 'better-sqlite3';
import type { RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { SearchRanking } from './search-ranking.js';
import { matchExpressionOf } from './sqlite-search.js';

/** A search's page, or how many candidates it went through before its deadline. */
export type SearchOutcome = { entries: RankedEntry[] } | { timedOutAfter: number };

type Candidate = [name: string, sha256: string, size: number, holders: number, firewalled: number];

const statements = new WeakMap<Database.Database, Database.Statement<[string, number, number], Candidate>>();

/**
 * One search of a SQLite tracker's database: the FTS5 index narrows to candidates (in no useful order,
 * so every one is offered), SearchRanking decides and keeps the page. It runs on a search thread
 * (sqlite-search-worker.ts) with a connection of its own, so however many candidates a broad query has,
 * the tracker's event loop is not held.
 */
export function runSearch(db: Database.Database, query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): SearchOutcome {
  let statement = statements.get(db);
  if (!statement) {
    // Raw rows (arrays): a broad search reads a hundred thousand of them.
    statement = db
      .prepare<[string, number, number], Candidate>(
        `SELECT c.name, c.sha256, c.size, c.holders, c.firewalled FROM search_index s JOIN contents c ON c.id = s.rowid
         WHERE search_index MATCH ? AND c.size BETWEEN ? AND ?`,
      )
      .raw(true);
    statements.set(db, statement);
  }
  const ranking = new SearchRanking(query, after, limit, deadline);
  const candidates = statement.iterate(matchExpressionOf(query), query.minSize ?? 0, query.maxSize ?? Number.MAX_SAFE_INTEGER);
  try {
    for (const [name, sha256, size, holders, firewalled] of candidates) ranking.offer(name, sha256, size, holders, firewalled);
  } catch (error) {
    if (ranking.timedOut(error)) return { timedOutAfter: ranking.candidatesRead };
    throw error;
  } finally {
    candidates.return?.();
  }
  return { entries: ranking.entries };
}
