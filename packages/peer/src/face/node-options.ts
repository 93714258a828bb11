import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { type Endpoint, identityFile, KnownTrackers, loadOrCreateIdentity } from '@p2pservice/protocol';
import { defaultConfigDir, defaultStateDir } from '@p2pservice/cli';
import type { Logger } from 'pino';
import type { PeerNodeOptions } from '../node.js';
import { defaultCacheDir } from '../share/hash-cache.js';
import { nodeSettingsOf, type PeerSettings } from '../settings/table.js';

/**
 * The node every face runs: its settings as they are, and what lives in the XDG folders (the hash
 * cache, the identity and the known trackers). Faces that may share make the identity on first use;
 * listing and downloading need none on open and key networks, but present it when it exists (a members
 * network knows its members by it).
 */
export async function nodeOptions(
  settings: PeerSettings,
  tracker: readonly Endpoint[],
  logger: Logger,
  env: Record<string, string | undefined>,
  { mayShare, cwd = process.cwd() }: { mayShare: boolean; cwd?: string },
): Promise<PeerNodeOptions & { identityCreated?: string; identityUnchecked?: string }> {
  const configDir = defaultConfigDir(env);
  const cacheDir = defaultCacheDir(env);
  const loaded = mayShare || existsSync(identityFile(configDir, 'peer')) ? await loadOrCreateIdentity(configDir, 'peer') : undefined;
  return {
    ...nodeSettingsOf(settings),
    tracker,
    logger,
    identity: loaded?.identity,
    identityCreated: loaded?.created ? loaded.file : undefined,
    // On Windows nobody can tell from the file who may read the key: the CLI says so.
    identityUnchecked: loaded?.unchecked ? loaded.file : undefined,
    knownTrackers: knownTrackersOf(env),
    cacheDir,
    // What this program keeps for itself is never shared, even from a folder that holds it (`peer share ~`).
    privatePaths: [join(cwd, '.env'), configDir, defaultStateDir(env), cacheDir, ...(loaded ? [loaded.file] : [])],
  };
}

/** The trackers met before (trust on first use), kept in the config folder. */
export const knownTrackersOf = (env: Record<string, string | undefined>) => new KnownTrackers(join(defaultConfigDir(env), 'known-trackers'));

/** The settings `peer join` keeps for the next commands (.env form, owner-only: it may hold a network key). */
export const joinedSettingsFile = (env: Record<string, string | undefined>) => join(defaultConfigDir(env), 'peer.env');
