import { isIP } from 'node:net';
import { P2PError, parseIdentity, senderOf } from '@p2pservice/protocol';
import { banTime } from './server/ban-watch.js';
import { textTable } from './operator-store.js';
import type { Ban } from './store/store.js';

/*
 * `tracker ban`, `tracker unban` and `tracker bans`: the operator's word on who may not come in, written
 * to the network's database, where every running tracker of the network reads it within a second.
 */

/** What a ban names: an identity in its canonical form, or an address as a sender (an IPv6 address's /64). */
export function banTarget(text: string): string {
  const address = text.replace(/\/64$/, '');
  if (isIP(address) !== 0) return senderOf(address);
  // Something identity-shaped gets the identity's own words (a mistyped character); anything else both.
  if (text.replace(/[-\s]/g, '').length >= 50) return parseIdentity(text, 'ban target');
  throw new P2PError('BAD_CONFIG', `ban target ${JSON.stringify(text.slice(0, 80))} is neither an identity nor an IP address`, 'an identity as `peer share` printed it, or an address like 192.0.2.7 or 2001:db8::1');
}


/** The bans as a table for a terminal, or a line saying there are none. */
export function bansTable(bans: readonly Ban[]): string {
  if (bans.length === 0) return 'no bans\n';
  return textTable([['TARGET', 'UNTIL', 'SINCE'], ...bans.map((ban) => [ban.target, ban.until === null ? 'for good' : banTime(ban.until), banTime(ban.at)])]);
}
