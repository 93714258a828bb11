import { banTime } from './server/ban-watch.js';
import type { StoredInvite } from './store/store.js';
import { terminalQr } from './join-link.js';

/** What a person at a terminal sees of a new invite: the link as a QR code, and what it allows. */
export async function showInvite(invite: StoredInvite, link: string): Promise<string> {
  const qr = await terminalQr(link);
  const uses = `${invite.usesLeft} use${invite.usesLeft === 1 ? '' : 's'}`;
  const end = invite.expiresAt === null ? 'no expiry' : `until ${banTime(invite.expiresAt)}`;
  const name = invite.name === null ? '' : ` for ${invite.name}`;
  return `${qr}Invite ${invite.id}${name}: ${uses}, ${end}. The new member runs: peer join '<the link above>'\n`;
}
