import { P2PError } from '@p2pservice/protocol';
import { PgStore, type PgStoreOptions } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { TrackerStore } from './store.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Whether TRACKER_DB names a PostgreSQL database (a URL) rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return POSTGRES_URL.test(db);
}

/**
 * The store TRACKER_DB names: a `postgres://` (or `postgresql://`) URL is a PostgreSQL database that
 * several trackers may share; anything else is the path of a SQLite file for this tracker alone.
 */
export async function openStore(db: string, pgOptions: PgStoreOptions = {}): Promise<TrackerStore> {
  if (!isPostgresUrl(db)) return SqliteStore.open(db);
  try {
    new URL(db);
  } catch {
    throw new P2PError('BAD_CONFIG', 'TRACKER_DB is not a readable postgres:// URL', 'write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  return PgStore.open(db, pgOptions);
}
