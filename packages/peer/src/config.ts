import { loadSettings, MAX_FILES_PER_SHARE, setting, STALL_TIMEOUT_MS } from '@p2pservice/protocol';
import { z } from 'zod';
import { DEFAULT_MAX_UPLOADS } from './file-server.js';

/** Built-in defaults; `.env.example` documents the same values (a test keeps the two in step). */
export const PEER_DEFAULTS = {
  PEER_TRACKER: '127.0.0.1:7070',
  PEER_PORT: '0',
  PEER_HOST: '0.0.0.0',
  PEER_MAX_UPLOADS: String(DEFAULT_MAX_UPLOADS),
  MAX_FILES_PER_SHARE: String(MAX_FILES_PER_SHARE),
  STALL_TIMEOUT: String(STALL_TIMEOUT_MS / 1000),
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
  LOG_LEVEL: setting.logLevel(),
});
export type PeerSettings = z.infer<typeof PeerSettings>;

export function loadPeerSettings(env: NodeJS.ProcessEnv, dotenv: Record<string, string>): PeerSettings {
  return loadSettings(PeerSettings, PEER_DEFAULTS, env, dotenv);
}
