import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { P2PError } from '@p2pservice/protocol';
import { TRACKER_SETTINGS, type TrackerSettings } from './settings/table.js';
import { isPostgresUrl, openStore } from './store/open-store.js';
import type { TrackerStore } from './store/store.js';

/*
 * What the operator's commands (`tracker ban`, `invite`, `revoke`, …) share: the network's database, and
 * who is at the keyboard, for the audit log.
 */

/** Runs `use` with the network's store, in the database the settings name (which must exist if it is a file). */
export async function withStore<T>(settings: Pick<TrackerSettings, 'db'>, use: (store: TrackerStore) => Promise<T>): Promise<T> {
  if (!isPostgresUrl(settings.db) && !existsSync(settings.db)) {
    throw new P2PError('BAD_CONFIG', `no tracker database at ${settings.db}`, `run this where the tracker runs, or name its database with --db or ${TRACKER_SETTINGS.db.env}`);
  }
  const store = await openStore(settings.db, { poolSize: 1 });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Who runs an operator's command, as the audit log names them: `user@host`. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user database entry (a container's numeric user): the log says unknown.
  }
  return `${user}@${hostname()}`;
}

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `30m`, `1h`, `7d` as milliseconds, or BAD_CONFIG naming the flag. */
export function parseDuration(text: string, flag = '--for'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  const ms = match ? Math.round(Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]) : 0;
  if (!match || ms <= 0) throw new P2PError('BAD_CONFIG', `${flag} ${JSON.stringify(text)} is not a duration`, 'write a number and a unit: 90s, 30m, 1h or 7d');
  return ms;
}

/** Rows of text as aligned columns, the first row the header; the last column is not padded. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}
