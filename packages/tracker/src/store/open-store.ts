import { P2PError } from '@p2pservice/protocol';
import ConnectionParameters from 'pg/lib/connection-parameters';
import { PgStore, type PgStoreOptions } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { TrackerStore } from './store.js';
import { TRACKER_SETTINGS } from '../settings/table.js';

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
    throw new P2PError('BAD_CONFIG', `${TRACKER_SETTINGS.db.env} is not a readable postgres:// URL`, 'write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  requireEncryptedUnlessLocal(db, url);
  return PgStore.open(db, pgOptions);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/i;
/** Modes that fall back to a clear connection when the server offers no TLS (libpq's meaning). */
const FALLING_BACK_SSL_MODES = new Set(['disable', 'allow', 'prefer']);

/**
 * The database holds who is online, where, and what they share: off this machine, it is reached over
 * TLS or not at all. A loopback address (or a Unix socket, `?host=/run/postgresql`) needs none.
 * Where the driver will connect, and whether with TLS, is read with the driver's own parser (and its
 * PGHOST / PGSSLMODE fallbacks): a URL that looks local but says `?host=elsewhere` is not local.
 */
function requireEncryptedUnlessLocal(db: string, url: URL): void {
  let driver: ConnectionParameters;
  try {
    driver = new ConnectionParameters(db);
  } catch (error) {
    throw new P2PError('BAD_CONFIG', `${TRACKER_SETTINGS.db.env} cannot be used: ${(error as Error).message}`, 'check the URL and the files it names (sslrootcert, sslcert, sslkey)');
  }
  const host = driver.host ?? '';
  if (driver.isDomainSocket === true || LOOPBACK.test(host)) return;
  const mode = url.searchParams.get('sslmode') ?? '';
  if (driver.ssl && !FALLING_BACK_SSL_MODES.has(mode)) return;
  throw new P2PError(
    'BAD_CONFIG',
    `${TRACKER_SETTINGS.db.env} reaches PostgreSQL at ${host} ${mode ? `with sslmode=${mode}` : 'without TLS'}, and would carry the network's list in clear`,
    'add ?sslmode=verify-full&sslrootcert=/path/to/its-ca.pem to the URL (or sslmode=require), and turn ssl on in the server',
  );
}
