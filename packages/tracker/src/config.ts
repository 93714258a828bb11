import { MAX_FILES_PER_SHARE, MAX_FRAME_BYTES, P2PError } from '@p2pservice/protocol';
import { loadSettings, setting } from '@p2pservice/protocol/cli';
import { z } from 'zod';
import { DEFAULT_TRACKER_LIMITS } from './limits.js';
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
  HEARTBEAT_INTERVAL: String(DEFAULT_TRACKER_LIMITS.heartbeatMs / 1000),
  PEER_TIMEOUT: String(DEFAULT_TRACKER_LIMITS.peerTimeoutMs / 1000),
  SEARCH_BUDGET: String(DEFAULT_TRACKER_LIMITS.searchBudgetMs / 1000),
  TRACKER_LEASE: String(DEFAULT_TRACKER_LIMITS.leaseMs / 1000),
  TRACKER_DB_POOL: String(DEFAULT_PG_POOL.poolSize),
  NETWORK_KEY: '',
  TRACKER_HTTP_PORT: '',
  TRACKER_HTTP_HOST: '127.0.0.1',
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
