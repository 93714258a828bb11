import Database from 'better-sqlite3';
import type { SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { runSearch, type SearchOutcome } from './sqlite-search-run.js';

/*
 * A search thread of a SQLite tracker (sqlite-store.ts starts a pool of them with piscina): a read-only
 * connection of its own to the database, which in WAL mode reads the last committed state while the
 * tracker's thread writes.
 */

export interface SearchTask {
  file: string;
  query: SearchQuery;
  after: SearchCursor | null;
  limit: number;
  deadline: number;
}

const connections = new Map<string, Database.Database>();

export default function search({ file, query, after, limit, deadline }: SearchTask): SearchOutcome {
  let db = connections.get(file);
  if (!db) {
    db = new Database(file, { readonly: true, fileMustExist: true });
    connections.set(file, db);
  }
  return runSearch(db, query, after, limit, deadline);
}
