import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/*
 * The thread that checkpoints a SQLite tracker's write-ahead log (sqlite-checkpoints.ts): its own
 * connection copies what the WAL holds into the database file, and syncs it, every few hundred
 * milliseconds, so that the tracker's own thread never does that work inside one of its commits.
 */

const { file, everyMs, walLimitBytes, truncateWaitMs, pause } = workerData as {
  file: string;
  everyMs: number;
  walLimitBytes: number;
  truncateWaitMs: number;
  /** Set to 1 while the log is emptied: the tracker starts no write in that time (WalCheckpoints.writesMayGo). */
  pause: Int32Array;
};
const db = new Database(file);
// How long a TRUNCATE checkpoint may wait for the tracker's write in progress, and searches, to finish.
db.pragma(`busy_timeout = ${truncateWaitMs}`);

/** Empties the log while the tracker holds its writes back. */
function truncate(): void {
  Atomics.store(pause, 0, 1);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    Atomics.store(pause, 0, 0);
    Atomics.notify(pause, 0);
  }
}

function walBytes(): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for or blocks the tracker's writes.
    db.pragma('wal_checkpoint(PASSIVE)');
    // While writes never pause, a PASSIVE checkpoint never finds the log wholly copied, so SQLite never
    // starts it over and it grows without end (5.5 GB for a 340 MB database in the test). Past the limit,
    // the tracker pauses its writes while a TRUNCATE checkpoint copies the little PASSIVE left and
    // empties the file. Waiting for the lock instead lost the race to the tracker's next slice, mostly.
    if (walBytes() > walLimitBytes) truncate();
  } catch {
    // Busy or interrupted: the next round catches up.
  }
}, everyMs);

parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.postMessage('closed');
});
