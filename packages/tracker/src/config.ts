import { MAX_FILES_PER_SHARE, MAX_FRAME_BYTES, P2PError } from '@p2pservice/protocol';
import { loadSettings, setting } from '@p2pservice/protocol/cli';
import { z } from 'zod';
import { DEFAULT_TRACKER_LIMITS } from './server/limits.js';
import { DEFAULT_PG_POOL } from './store/pg-store.js';

/** Built-in defaults; `.env.example` documents the same values (a test keeps the two in step). */
export const TRACKER_DEFAULTS = {
  TRACKER_HOST: '0.0.0.0',
  TRACKER_PORT: '7070',
  TRACKER_DB: 'tracker.db',
  LOG_LEVEL: 'info',
  LOG_FORMAT: '',
  MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
  MAX_FILES_PER_SHARE: String(MAX_FILES_PER_SHARE),
  TRACKER_MAX_CONNECTIONS: String(DEFAULT_TRACKER_LIMITS.maxConnections),
  TRACKER_MAX_CONNECTIONS_PER_ADDRESS: String(DEFAULT_TRACKER_LIMITS.maxConnectionsPerAddress),
  TRACKER_MAX_FILES_PER_ADDRESS: String(DEFAULT_TRACKER_LIMITS.maxFilesPerAddress),
  TRACKER_MAX_FILES_PER_IDENTITY: String(DEFAULT_TRACKER_LIMITS.maxFilesPerIdentity),
  TRACKER_MAX_SEARCHES_PER_ADDRESS: String(DEFAULT_TRACKER_LIMITS.maxSearchesPerAddress),
  HEARTBEAT_INTERVAL: String(DEFAULT_TRACKER_LIMITS.heartbeatMs / 1000),
  PEER_TIMEOUT: String(DEFAULT_TRACKER_LIMITS.peerTimeoutMs / 1000),
  SEARCH_BUDGET: String(DEFAULT_TRACKER_LIMITS.searchBudgetMs / 1000),
  TRACKER_LEASE: String(DEFAULT_TRACKER_LIMITS.leaseMs / 1000),
  TRACKER_DB_POOL: String(DEFAULT_PG_POOL.poolSize),
  NETWORK_KEY: '',
  TRACKER_HTTP_PORT: '',
  TRACKER_HTTP_HOST: '127.0.0.1',
};

/** One line each for `tracker --help` (the same words as `.env.example`, shorter). */
export const TRACKER_SETTINGS_HELP: Record<keyof typeof TRACKER_DEFAULTS, string> = {
  TRACKER_HOST: 'address to listen on; 0.0.0.0 = every IPv4 address, :: = IPv6 and IPv4',
  TRACKER_PORT: 'TCP port peers connect to; 0 = any free one',
  TRACKER_DB: 'SQLite file, or a postgres:// URL that several trackers share',
  LOG_LEVEL: 'fatal, error, warn, info, debug (with stacks), trace or silent',
  LOG_FORMAT: 'json or pretty; empty = pretty on a terminal, JSON otherwise',
  MAX_FRAME_BYTES: 'largest protocol frame accepted',
  MAX_FILES_PER_SHARE: 'most files one peer may share',
  TRACKER_MAX_CONNECTIONS: 'most connections at once',
  TRACKER_MAX_CONNECTIONS_PER_ADDRESS: 'most connections at once from one address (IPv6: one /64)',
  TRACKER_MAX_FILES_PER_ADDRESS: 'most files listed from one address over all its connections',
  TRACKER_MAX_FILES_PER_IDENTITY: 'most files listed under one identity over all its connections',
  TRACKER_MAX_SEARCHES_PER_ADDRESS: 'searches one address runs at once; more wait their turn',
  HEARTBEAT_INTERVAL: 'seconds between the pings of sharing peers',
  PEER_TIMEOUT: 'seconds of silence before a peer and its files are dropped',
  SEARCH_BUDGET: 'seconds one search may run',
  TRACKER_LEASE: "seconds of the tracker's lease on a shared database",
  TRACKER_DB_POOL: 'connections to a PostgreSQL TRACKER_DB',
  NETWORK_KEY: "a private network's key; empty = open network (keep .env at chmod 600)",
  TRACKER_HTTP_PORT: 'port of /status, /metrics and /healthz; empty = off',
  TRACKER_HTTP_HOST: 'address of that HTTP listener',
};

export const TrackerSettings = z.object({
  TRACKER_HOST: setting.text(),
  TRACKER_PORT: setting.port(),
  TRACKER_DB: setting.text(),
  LOG_LEVEL: setting.logLevel(),
  LOG_FORMAT: setting.logFormat(),
  MAX_FRAME_BYTES: setting.positiveInt(),
  MAX_FILES_PER_SHARE: setting.positiveInt(),
  TRACKER_MAX_CONNECTIONS: setting.positiveInt(),
  TRACKER_MAX_CONNECTIONS_PER_ADDRESS: setting.positiveInt(),
  TRACKER_MAX_FILES_PER_ADDRESS: setting.positiveInt(),
  TRACKER_MAX_FILES_PER_IDENTITY: setting.positiveInt(),
  TRACKER_MAX_SEARCHES_PER_ADDRESS: setting.positiveInt(),
  /** Seconds between the pings a sharing peer sends (told to peers in the welcome). */
  HEARTBEAT_INTERVAL: setting.seconds(),
  /** Seconds of silence after which a peer is dropped with its files. */
  PEER_TIMEOUT: setting.seconds(),
  /** Seconds one search may take before it is stopped with SEARCH_TIMEOUT. */
  SEARCH_BUDGET: setting.seconds(),
  /** Seconds of this tracker's lease on the database (renewed every third of it); see limits.ts. */
  TRACKER_LEASE: setting.seconds(),
  /** Most connections to a PostgreSQL TRACKER_DB. */
  TRACKER_DB_POOL: setting.positiveInt(),
  /** The key of a private network (`tracker start --new-key` makes one); unset: an open network. */
  NETWORK_KEY: setting.optionalText(),
  /** Port of the status page, metrics and health check; unset: no HTTP listener. */
  TRACKER_HTTP_PORT: setting.optionalPort(),
  TRACKER_HTTP_HOST: setting.text(),
});
export type TrackerSettings = z.infer<typeof TrackerSettings>;

export function loadTrackerSettings(env: NodeJS.ProcessEnv, dotenv: Record<string, string>): TrackerSettings {
  const settings = loadSettings(TrackerSettings, TRACKER_DEFAULTS, env, dotenv);
  if (settings.PEER_TIMEOUT <= settings.HEARTBEAT_INTERVAL) {
    throw new P2PError(
      'BAD_CONFIG',
      `PEER_TIMEOUT (${settings.PEER_TIMEOUT / 1000} s) must be longer than HEARTBEAT_INTERVAL (${settings.HEARTBEAT_INTERVAL / 1000} s)`,
      'three heartbeat intervals is usual',
    );
  }
  if (settings.TRACKER_LEASE < 1_000) {
    throw new P2PError('BAD_CONFIG', `TRACKER_LEASE (${settings.TRACKER_LEASE / 1000} s) is too short to be renewed in time`, 'keep the default of 15 s, or at least 1 s');
  }
  return settings;
}
