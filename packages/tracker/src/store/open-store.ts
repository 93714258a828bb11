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
  let url: URL;
  try {
    url = new URL(db);
  } catch {
    throw new P2PError('BAD_CONFIG', 'TRACKER_DB is not a readable postgres:// URL', 'write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  requireEncryptedUnlessLocal(url);
  return PgStore.open(db, pgOptions);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const VERIFYING_SSL_MODES = new Set(['require', 'verify-ca', 'verify-full']);

/**
 * The database holds who is online, where, and what they share: off this machine, it is reached over
 * TLS or not at all. A loopback address (or a Unix socket, `?host=/run/postgresql`) needs none.
 */
function requireEncryptedUnlessLocal(url: URL): void {
  const socketFolder = url.searchParams.get('host')?.startsWith('/') ?? false;
  if (socketFolder || url.hostname === '' || LOOPBACK.test(url.hostname)) return;
  const mode = url.searchParams.get('sslmode') ?? '';
  if (VERIFYING_SSL_MODES.has(mode)) return;
  throw new P2PError(
    'BAD_CONFIG',
    `TRACKER_DB reaches PostgreSQL at ${url.hostname} ${mode ? `with sslmode=${mode}` : 'without TLS'}, and would carry the network's list in clear`,
    'add ?sslmode=verify-full&sslrootcert=/path/to/its-ca.pem to the URL (or sslmode=require), and turn ssl on in the server',
  );
}
