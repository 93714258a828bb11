import { join } from 'node:path';
import {
  type Endpoint,
  KnownTrackers,
  loadOrCreateIdentity,
  MAX_FILES_PER_SHARE,
  parseNetworkKey,
  RECONNECT_BASE_DELAY_MS,
  RECONNECT_MAX_DELAY_MS,
  STALL_TIMEOUT_MS,
} from '@p2pservice/protocol';
import { defaultConfigDir, defaultStateDir, loadSettings, setting } from '@p2pservice/protocol/cli';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PeerNodeOptions } from '../node.js';
import { DEFAULT_MAX_SOURCES } from '../download/swarm.js';
import { DEFAULT_MAX_UPLOADS } from '../share/file-server.js';
import { defaultCacheDir } from '../share/hash-cache.js';
import { RESCAN_INTERVAL_MS } from '../share/live-folder.js';
import { DEFAULT_UI_PORT } from './web/ui-defaults.js';

/** Built-in defaults; `.env.example` documents the same values (a test keeps the two in step). */
export const PEER_DEFAULTS = {
  PEER_TRACKER: '127.0.0.1:7070',
  PEER_PORT: '0',
  PEER_HOST: '',
  PEER_MAX_UPLOADS: String(DEFAULT_MAX_UPLOADS),
  PEER_MAX_UPLOAD_RATE: '0',
  PEER_MAX_SOURCES: String(DEFAULT_MAX_SOURCES),
  MAX_FILES_PER_SHARE: String(MAX_FILES_PER_SHARE),
  STALL_TIMEOUT: String(STALL_TIMEOUT_MS / 1000),
  RECONNECT_BASE_DELAY: String(RECONNECT_BASE_DELAY_MS / 1000),
  RECONNECT_MAX_DELAY: String(RECONNECT_MAX_DELAY_MS / 1000),
  RESCAN_INTERVAL: String(RESCAN_INTERVAL_MS / 1000),
  PEER_UI_PORT: String(DEFAULT_UI_PORT),
  LOG_LEVEL: 'info',
  LOG_FORMAT: '',
  NETWORK_KEY: '',
};

/** One line each for `peer --help` (the same words as `.env.example`, shorter). */
export const PEER_SETTINGS_HELP: Record<keyof typeof PEER_DEFAULTS, string> = {
  PEER_TRACKER: 'tracker HOST:PORT (or HOST:PORT#IDENTITY to pin it); several, comma-separated',
  PEER_PORT: 'port shares listen on, and firewalled holders connect back to; 0 = any free one',
  PEER_HOST: 'address shares listen on; empty = every address, IPv6 and IPv4',
  PEER_MAX_UPLOADS: 'uploads served at once; more wait in line',
  PEER_MAX_UPLOAD_RATE: 'upload bytes per second to everyone together (50M, 800k, 1.5Gi); 0 = no limit',
  PEER_MAX_SOURCES: 'holders one download takes pieces from at once',
  MAX_FILES_PER_SHARE: 'most files one share may hold',
  STALL_TIMEOUT: 'seconds without a byte (or a connect-back) before leaving a holder',
  RECONNECT_BASE_DELAY: 'seconds: first backoff step when the tracker is lost',
  RECONNECT_MAX_DELAY: 'seconds: longest backoff step',
  RESCAN_INTERVAL: 'seconds between full rescans of a shared folder',
  PEER_UI_PORT: "port of `peer ui`'s page on 127.0.0.1; 0 = any free one",
  LOG_LEVEL: 'fatal, error, warn, info, debug (with stacks), trace or silent',
  LOG_FORMAT: 'json or pretty; empty = pretty on a terminal, JSON otherwise',
  NETWORK_KEY: "a private network's key; empty = open network (keep .env at chmod 600)",
};

export const PeerSettings = z.object({
  PEER_TRACKER: setting.text(),
  PEER_PORT: setting.port(),
  /** Empty: every address, IPv6 and IPv4. */
  PEER_HOST: setting.optionalText(),
  PEER_MAX_UPLOADS: setting.positiveInt(),
  /** Bytes per second this peer uploads at most, to everyone together (`50M`); 0: no limit. */
  PEER_MAX_UPLOAD_RATE: setting.rate(),
  /** Holders one download takes pieces from at once. */
  PEER_MAX_SOURCES: setting.positiveInt(),
  MAX_FILES_PER_SHARE: setting.positiveInt(),
  /** Seconds without a byte before a download leaves a holder for the next. */
  STALL_TIMEOUT: setting.seconds(),
  /** Reconnecting to a lost tracker: first delay bound and cap of the exponential backoff, in seconds. */
  RECONNECT_BASE_DELAY: setting.seconds(),
  RECONNECT_MAX_DELAY: setting.seconds(),
  /** Seconds between full rescans of a shared folder (the watcher reports changes in between). */
  RESCAN_INTERVAL: setting.seconds(),
  /** Port of `peer ui`'s page on 127.0.0.1 (0: any free port). */
  PEER_UI_PORT: setting.port(),
  LOG_LEVEL: setting.logLevel(),
  LOG_FORMAT: setting.logFormat(),
  /** The key of the private network to join (the tracker's operator gives it); unset: an open network. */
  NETWORK_KEY: setting.optionalText(),
});
export type PeerSettings = z.infer<typeof PeerSettings>;

export function loadPeerSettings(env: Record<string, string | undefined>, dotenv: Record<string, string>): PeerSettings {
  return loadSettings(PeerSettings, PEER_DEFAULTS, env, dotenv);
}

/**
 * The node every face runs, configured from the settings and the environment (the hash cache, the
 * identity and the known trackers live in the XDG folders). The identity is loaded (made on first use)
 * only for faces that may share: listing and downloading need none.
 */
export async function nodeOptions(
  settings: PeerSettings,
  tracker: readonly Endpoint[],
  logger: Logger,
  env: Record<string, string | undefined>,
  { mayShare, cwd = process.cwd() }: { mayShare: boolean; cwd?: string },
): Promise<PeerNodeOptions & { identityCreated?: string }> {
  const configDir = defaultConfigDir(env);
  const cacheDir = defaultCacheDir(env);
  const loaded = mayShare ? await loadOrCreateIdentity(configDir, 'peer') : undefined;
  return {
    tracker,
    logger,
    ...(loaded && { identity: loaded.identity }),
    ...(loaded?.created && { identityCreated: loaded.file }),
    knownTrackers: new KnownTrackers(join(configDir, 'known-trackers')),
    ...(settings.NETWORK_KEY && { networkKey: parseNetworkKey(settings.NETWORK_KEY) }),
    ...(settings.PEER_HOST && { host: settings.PEER_HOST }),
    port: settings.PEER_PORT,
    maxUploads: settings.PEER_MAX_UPLOADS,
    ...(settings.PEER_MAX_UPLOAD_RATE && { maxUploadRate: settings.PEER_MAX_UPLOAD_RATE }),
    maxSources: settings.PEER_MAX_SOURCES,
    maxFiles: settings.MAX_FILES_PER_SHARE,
    cacheDir,
    // What this program keeps for itself is never shared, even from a folder that holds it (`peer share ~`).
    privatePaths: [join(cwd, '.env'), configDir, defaultStateDir(env), cacheDir, ...(loaded ? [loaded.file] : [])],
    stallTimeoutMs: settings.STALL_TIMEOUT,
    reconnectBaseDelayMs: settings.RECONNECT_BASE_DELAY,
    reconnectMaxDelayMs: settings.RECONNECT_MAX_DELAY,
    rescanIntervalMs: settings.RESCAN_INTERVAL,
  };
}
