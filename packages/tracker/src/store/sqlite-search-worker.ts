import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { runSearch, type SearchOutcome } from './sqlite-search-run.js';

/*
 * A search thread of a SQLite tracker (sqlite-search-threads.ts): a read-only connection of its own to
 * the database, which in WAL mode reads the last committed state while the tracker's thread writes. One
 * search at a time; on 'stop' it closes its connection before it is ended (a thread ended with a
 * connection still open could take the process down with it).
 */

export interface SearchTask {
  id: number;
  query: SearchQuery;
  after: SearchCursor | null;
  limit: number;
  deadline: number;
}

export type SearchReply = { id: number; outcome: SearchOutcome } | { id: number; failed: string };

const db = new Database((workerData as { file: string }).file, { readonly: true, fileMustExist: true });

parentPort!.on('message', (message: SearchTask | 'stop') => {
  if (message === 'stop') {
    db.close();
    parentPort!.postMessage('closed');
    return;
  }
  let reply: SearchReply;
  try {
    reply = { id: message.id, outcome: runSearch(db, message.query, message.after, message.limit, message.deadline) };
  } catch (error) {
    reply = { id: message.id, failed: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
