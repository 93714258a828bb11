import {
  loadSettings,
  MAX_FILES_PER_SHARE,
  RECONNECT_BASE_DELAY_MS,
  RECONNECT_MAX_DELAY_MS,
  setting,
  STALL_TIMEOUT_MS,
} from '@p2pservice/protocol';
import { z } from 'zod';
import { DEFAULT_MAX_UPLOADS } from './file-server.js';
import { RESCAN_INTERVAL_MS } from './live-folder.js';
import type { ShareOptions } from './share.js';

/** Built-in defaults; `.env.example` documents the same values (a test keeps the two in step). */
export const PEER_DEFAULTS = {
  PEER_TRACKER: '127.0.0.1:7070',
  PEER_PORT: '0',
  PEER_HOST: '0.0.0.0',
  PEER_MAX_UPLOADS: String(DEFAULT_MAX_UPLOADS),
  MAX_FILES_PER_SHARE: String(MAX_FILES_PER_SHARE),
  STALL_TIMEOUT: String(STALL_TIMEOUT_MS / 1000),
  RECONNECT_BASE_DELAY: String(RECONNECT_BASE_DELAY_MS / 1000),
  RECONNECT_MAX_DELAY: String(RECONNECT_MAX_DELAY_MS / 1000),
  RESCAN_INTERVAL: String(RESCAN_INTERVAL_MS / 1000),
  LOG_LEVEL: 'info',
};

export const PeerSettings = z.object({
  PEER_TRACKER: setting.text(),
  PEER_PORT: setting.port(),
  PEER_HOST: setting.text(),
  PEER_MAX_UPLOADS: setting.positiveInt(),
  MAX_FILES_PER_SHARE: setting.positiveInt(),
  /** Seconds without a byte before a download leaves a holder for the next. */
  STALL_TIMEOUT: setting.seconds(),
  /** Reconnecting to a lost tracker: first delay bound and cap of the exponential backoff, in seconds. */
  RECONNECT_BASE_DELAY: setting.seconds(),
  RECONNECT_MAX_DELAY: setting.seconds(),
  /** Seconds between full rescans of a shared folder (the watcher reports changes in between). */
  RESCAN_INTERVAL: setting.seconds(),
  LOG_LEVEL: setting.logLevel(),
});
export type PeerSettings = z.infer<typeof PeerSettings>;

export function loadPeerSettings(env: NodeJS.ProcessEnv, dotenv: Record<string, string>): PeerSettings {
  return loadSettings(PeerSettings, PEER_DEFAULTS, env, dotenv);
}

/** The share options that come from settings. */
export function shareTuning(settings: PeerSettings): Pick<ShareOptions, 'reconnectBaseDelayMs' | 'reconnectMaxDelayMs' | 'rescanIntervalMs'> {
  return {
    reconnectBaseDelayMs: settings.RECONNECT_BASE_DELAY,
    reconnectMaxDelayMs: settings.RECONNECT_MAX_DELAY,
    rescanIntervalMs: settings.RESCAN_INTERVAL,
  };
}
