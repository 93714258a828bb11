import { join, relative } from 'node:path';
import { quoted, terminalSafe } from '@p2pservice/protocol';
import { defaultConfigDir, errorLine } from '@p2pservice/cli';
import type { Logger } from 'pino';
import type { PeerNode } from '../node.js';
import { type PeerSettings, PEER_SETTINGS } from '../settings/table.js';
import { WishWatcher } from '../want/wish-watcher.js';
import { Wishlist } from '../want/wishlist.js';
import { formatBytes, formatDuration, formatTable } from './format.js';
import type { Write } from './report.js';

/** The wishlist of this user (config folder, owner-only). */
export const wishlistOf = (env: Record<string, string | undefined>) => new Wishlist(join(defaultConfigDir(env), 'wants.json'));

/**
 * What `peer share` and `peer ui` do with the wishlist: fetch new matches into PEER_WANT_DIR, a line for
 * each; with wants but no folder set, one line saying so. Returns the stop (undefined: nothing runs).
 */
export async function followWishes(node: PeerNode, settings: PeerSettings, env: Record<string, string | undefined>, err: Write, logger: Logger): Promise<(() => void) | undefined> {
  const wishlist = wishlistOf(env);
  const wants = await wishlist.wants().catch(() => []);
  if (wants.length === 0) return undefined;
  if (settings.wantDir === undefined) {
    err(`peer: the wishlist has ${wants.length} want${wants.length === 1 ? '' : 's'}, and ${PEER_SETTINGS.wantDir.env} is not set: nothing is fetched (set it to the folder for them)\n`);
    return undefined;
  }
  const watcher = new WishWatcher({
    node,
    wishlist,
    outDir: settings.wantDir,
    intervalMs: settings.wantIntervalMs,
    onSaved: (query, result) => err(`peer: wanted ${quoted(query)}: saved ${terminalSafe(relative(process.cwd(), result.path) || result.path)} (${formatBytes(result.size)})\n`),
    onRound: (count) => logger.debug({ wants: count }, 'looked for the wishlist'),
    onTold: (query, files) => logger.debug({ query, files }, 'the tracker told of matches'),
    onWatching: (watching) =>
      err(watching ? 'peer: the tracker watches the wishlist: new matches are fetched as they are shared\n' : `peer: the tracker no longer watches the wishlist: it is searched for every ${formatDuration(settings.wantIntervalMs / 1000)}\n`),
    onFailed: (query, name, error) => err(`peer: wanted ${quoted(query)}: ${name ? `could not fetch ${quoted(name)}: ` : ''}${errorLine('', error).replace(/^: /, '')}\n`),
  });
  err(`peer: following the wishlist (${wants.length} want${wants.length === 1 ? '' : 's'}): new matches go to ${terminalSafe(settings.wantDir)}\n`);
  watcher.start();
  return () => watcher.stop();
}

/** `peer want --list`: each want with its number and how many matches it has fetched. */
export function wantsTable(wants: readonly { query: string; added: number; fetched: string[] }[]): string {
  if (wants.length === 0) return 'The wishlist is empty: add a search with `peer want WORDS`.\n';
  return `${formatTable(
    ['#', 'WANTED', 'SINCE', 'FETCHED'],
    wants.map((w, n) => [String(n + 1), terminalSafe(w.query), new Date(w.added).toISOString().slice(0, 16).replace('T', ' '), String(w.fetched.length)]),
    new Set([0, 3]),
  )}\n`;
}
