import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { P2PError, parseIdentity, senderOf } from '@p2pservice/protocol';
import { banTime } from './server/ban-watch.js';
import { TRACKER_SETTINGS, type TrackerSettings } from './settings/table.js';
import { isPostgresUrl, openStore } from './store/open-store.js';
import type { Ban, BanList } from './store/store.js';

/*
 * `tracker ban`, `tracker unban` and `tracker bans`: the operator's word on who may not come in, written
 * to the network's database, where every running tracker of the network reads it within a second.
 */

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `30m`, `1h`, `7d` as milliseconds, or BAD_CONFIG. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  const ms = match ? Math.round(Number(match[1]) * UNITS[match[2] as keyof typeof UNITS]) : 0;
  if (!match || ms <= 0) throw new P2PError('BAD_CONFIG', `--for ${JSON.stringify(text)} is not a duration`, 'write a number and a unit: 90s, 30m, 1h or 7d');
  return ms;
}

/** What a ban names: an identity in its canonical form, or an address as a sender (an IPv6 address's /64). */
export function banTarget(text: string): string {
  const address = text.replace(/\/64$/, '');
  if (isIP(address) !== 0) return senderOf(address);
  // Something identity-shaped gets the identity's own words (a mistyped character); anything else both.
  if (text.replace(/[-\s]/g, '').length >= 50) return parseIdentity(text, 'ban target');
  throw new P2PError('BAD_CONFIG', `ban target ${JSON.stringify(text.slice(0, 80))} is neither an identity nor an IP address`, 'an identity as `peer share` printed it, or an address like 192.0.2.7 or 2001:db8::1');
}


/** Runs `use` with the network's bans, in the database the settings name (which must exist if it is a file). */
export async function withBans<T>(settings: TrackerSettings, use: (bans: BanList) => Promise<T>): Promise<T> {
  if (!isPostgresUrl(settings.db) && !existsSync(settings.db)) {
    throw new P2PError('BAD_CONFIG', `no tracker database at ${settings.db}`, `run this where the tracker runs, or name its database with --db or ${TRACKER_SETTINGS.db.env}`);
  }
  const store = await openStore(settings.db, { poolSize: 1 });
  try {
    return await use(store.bans);
  } finally {
    await store.close();
  }
}

/** The bans as a table for a terminal, or a line saying there are none. */
export function bansTable(bans: readonly Ban[]): string {
  if (bans.length === 0) return 'no bans\n';
  const rows = [['TARGET', 'UNTIL', 'SINCE'], ...bans.map((ban) => [ban.target, ban.until === null ? 'for good' : banTime(ban.until), banTime(ban.at)])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}
