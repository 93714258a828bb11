import { formatLink, generateInvite, type Identity, P2PError, parseIdentity, quoted } from '@p2pservice/protocol';
import { banTime } from './server/ban-watch.js';
import { textTable } from './operator-store.js';
import type { LogEntry, Member, StoredInvite, TrackerStore } from './store/store.js';

/*
 * `tracker invite`, `invites`, `uninvite`, `members` and `revoke`: the operator's commands on a members
 * network (README#members), written to the network's database, where every running tracker reads a
 * revocation within a second.
 */

export interface InviteRequest {
  name: string | undefined;
  uses: number;
  expiresAt: number | null;
  by: string;
  now: number;
}

/** Makes an invite, stores it (its secret with it), and returns its join link. */
export async function makeInvite(store: TrackerStore, identity: Identity, address: { host: string; port: number }, request: InviteRequest): Promise<{ invite: StoredInvite; link: string }> {
  const fresh = generateInvite();
  const invite: StoredInvite = {
    id: fresh.id,
    secret: fresh.secret,
    name: request.name ?? null,
    usesLeft: request.uses,
    expiresAt: request.expiresAt,
    createdAt: request.now,
    createdBy: request.by,
  };
  await store.members.invite(invite);
  return { invite, link: formatLink({ ...address, id: identity.id, invite: fresh }) };
}

/** A member's name as `--name` gives it: 1 to 64 characters, no control characters. */
export function memberName(text: string): string {
  const name = text.trim();
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new P2PError('BAD_CONFIG', `--name ${quoted(text.slice(0, 80))} is not a member name`, '1 to 64 characters, no control characters');
  }
  return name;
}

/** `--uses`: a whole number from 1 up. */
export function inviteUses(text: string): number {
  const uses = Number(text);
  if (!Number.isInteger(uses) || uses < 1 || uses > 1_000_000) throw new P2PError('BAD_CONFIG', `--uses ${quoted(text.slice(0, 40))} is not a number of uses`, 'a whole number from 1, e.g. --uses 30 for a class');
  return uses;
}

/** The member `target` names, by identity or by name; NOT_FOUND, or AMBIGUOUS for a name several members have. */
export function findMember(members: readonly Member[], target: string): Member {
  const compact = target.replace(/[-\s]/g, '');
  if (compact.length >= 50 && /^[A-Za-z2-7]+$/.test(compact)) {
    const identity = parseIdentity(target, 'member');
    const member = members.find((m) => m.identity === identity);
    if (!member) throw new P2PError('NOT_FOUND', `${identity} is not a member of this network`, 'see `tracker members`');
    return member;
  }
  const named = members.filter((m) => m.name === target && m.revokedAt === null);
  if (named.length === 1) return named[0]!;
  if (named.length === 0) throw new P2PError('NOT_FOUND', `no member is named ${quoted(target.slice(0, 80))}`, 'see `tracker members`');
  throw new P2PError('AMBIGUOUS', `${named.length} members are named ${quoted(target)}: ${named.map((m) => m.identity).join(', ')}`, 'name the one to revoke by its identity');
}

/** What `tracker members` shows of a member, online or not, with the files it shares now. */
export interface MemberRow extends Member {
  online: boolean;
  files: number;
}

const when = (ms: number | null) => (ms === null ? '-' : banTime(ms));

export function membersTable(rows: readonly MemberRow[]): string {
  if (rows.length === 0) return 'no members yet: make an invite with `tracker invite`\n';
  return textTable([
    ['NAME', 'STATE', 'FILES', 'LAST SEEN', 'JOINED', 'IDENTITY', 'INVITED BY'],
    ...rows.map((m) => [
      m.name,
      m.revokedAt !== null ? 'revoked' : m.online ? 'online' : 'offline',
      String(m.files),
      m.online ? 'now' : when(m.lastSeen),
      when(m.joinedAt),
      m.identity,
      m.invitedBy,
    ]),
  ]);
}

export function invitesTable(invites: readonly StoredInvite[]): string {
  if (invites.length === 0) return 'no open invites\n';
  return textTable([
    ['INVITE', 'NAME', 'USES LEFT', 'EXPIRES', 'MADE', 'BY'],
    ...invites.map((i) => [i.id, i.name ?? '-', String(i.usesLeft), i.expiresAt === null ? 'never' : banTime(i.expiresAt), banTime(i.createdAt), i.createdBy]),
  ]);
}

export function logTable(entries: readonly LogEntry[]): string {
  if (entries.length === 0) return 'nothing logged yet\n';
  return textTable([['TIME', 'EVENT', 'SUBJECT', 'DETAIL'], ...entries.map((e) => [banTime(e.at), e.event, e.subject, e.detail])]);
}
