import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/*
 * The thread that checkpoints a SQLite tracker's write-ahead log (sqlite-checkpoints.ts): its own
 * connection copies what the WAL holds into the database file, and syncs it, every few hundred
 * milliseconds, so that the tracker's own thread never does that work inside one of its commits.
 */

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new Database(file);
const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for or blocks the tracker's writes.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or interrupted: the next round catches up.
  }
}, everyMs);

parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.postMessage('closed');
});
