import type Database from 'better-sqlite3';

/**
 * How long one slice of a big change runs its statements before it commits, holding the event loop (and
 * SQLite's write lock). better-sqlite3 is synchronous: a 100 000-file share of long names written in one
 * transaction held the loop for tens of seconds, every other connection waited, and the tracker's own
 * lease ran out. In slices, with the event loop running between them, other clients wait about this
 * long plus the commit (which writes the slice's search-index segment: 4 ms typically, 25 ms at worst).
 */
export const SQLITE_SLICE_MS = 5;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `work` in transactions, each given SQLITE_SLICE_MS (the time it should stop by, from
 * performance.now()), until it returns false (nothing left); the event loop runs between slices. Each
 * slice commits on its own: a reader sees the change advance slice by slice.
 *
 * Every write transaction of the tracker begins IMMEDIATE: a deferred one that has read cannot wait for
 * the write lock (SQLite fails it at once, "database is locked"), and the checkpoint thread takes that
 * lock for a moment whenever it starts the log over.
 */
export async function inSlices(
  db: Database.Database,
  work: (until: number) => boolean,
  /** Resolves when the next slice may begin (the WAL's checkpoint thread may ask writes to pause). */
  mayGo: () => Promise<void> = async () => undefined,
): Promise<void> {
  const slice = db.transaction(() => work(performance.now() + SQLITE_SLICE_MS));
  for (;;) {
    await mayGo();
    if (!slice.immediate()) return;
    await nextTurn();
  }
}
