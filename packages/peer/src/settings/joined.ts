import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Endpoint, formatEndpoint, P2PError } from '@p2pservice/protocol';
import { readEnvFile } from '@p2pservice/cli';
import { PEER_SETTINGS } from './table.js';
import { writeFileAtomically } from '../util/atomic-file.js';

/**
 * Keeps what `peer join` learned in the peer's settings file (.env form): the tracker, pinned to its
 * identity, and the network key a link carried (or none: a join to another network drops the old key).
 * Other lines stay. Owner-only (0600, its folder 0700), written whole or not at all.
 */
export async function keepJoined(file: string, tracker: Endpoint & { id: string }): Promise<void> {
  const { tracker: TRACKER, networkKey: KEY } = PEER_SETTINGS;
  const values = readEnvFile(file);
  values[TRACKER.env] = formatEndpoint({ host: tracker.host, port: tracker.port, id: tracker.id });
  if (tracker.key) values[KEY.env] = tracker.key;
  else delete values[KEY.env];
  const text = `# Kept by \`peer join\`; the environment and a .env where a command runs come first.\n${Object.entries(values)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join('\n')}\n`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomically(file, text, 0o600);
  } catch (error) {
    throw new P2PError('IO_ERROR', `cannot keep the tracker in ${file}: ${(error as Error).message}`, 'check that the folder is writable (XDG_CONFIG_HOME)', { cause: error });
  }
}
