import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/*
 * The thread that checkpoints a SQLite tracker's write-ahead log (sqlite-checkpoints.ts): its own
 * connection copies what the WAL holds into the database file, and syncs it, every few hundred
 * milliseconds, so that the tracker's own thread never does that work inside one of its commits.
 */

const { file, everyMs, walLimitBytes, restartWaitMs, pause } = workerData as {
  file: string;
  everyMs: number;
  walLimitBytes: number;
  restartWaitMs: number;
  /** Set to 1 while the log is started over: the tracker starts no write in that time (WalCheckpoints.writesMayGo). */
  pause: Int32Array;
};
const db = new Database(file);
// How long a RESTART checkpoint may wait for the tracker's write in progress, and searches, to finish.
db.pragma(`busy_timeout = ${restartWaitMs}`);
/** What one frame of the log takes: a page and its 24-byte header. */
const frameBytes = (db.pragma('page_size', { simple: true }) as number) + 24;

/** Copies the rest of the log and has it start over, while the tracker holds its writes back. */
function restart(): void {
  Atomics.store(pause, 0, 1);
  try {
    db.pragma('wal_checkpoint(RESTART)');
  } finally {
    Atomics.store(pause, 0, 0);
    Atomics.notify(pause, 0);
  }
}

const timer = setInterval(() => {
  try {
    // PASSIVE: copies what no reader still needs, never waits for or blocks the tracker's writes.
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
    // While writes never pause, a PASSIVE checkpoint never finds the log wholly copied, so SQLite never
    // starts it over and it grows without end (5.5 GB for a 340 MB database in the test). Past the limit,
    // the tracker pauses its writes while a RESTART checkpoint copies the little PASSIVE left, and the
    // next write starts the log over. Waiting for the lock instead lost the race to the tracker's next
    // slice, mostly. TRUNCATE paused writes twice as long: freeing the file's blocks (about 125 ms).
    if (log * frameBytes > walLimitBytes) restart();
  } catch {
    // Busy or interrupted: the next round catches up.
  }
}, everyMs);

parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.postMessage('closed');
});
