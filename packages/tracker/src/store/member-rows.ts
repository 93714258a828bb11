import type { Member, StoredInvite } from './store.js';

/* The member list's rows as both backends read them (sqlite-members.ts, pg-members.ts). */

export interface MemberRow {
  identity: string;
  name: string;
  invited_by: string;
  joined_at: number;
  last_seen: number;
  revoked_at: number | null;
}

export interface InviteRow {
  id: string;
  secret: Buffer;
  name: string | null;
  uses_left: number;
  expires_at: number | null;
  created_at: number;
  created_by: string;
}

export const memberOf = (row: MemberRow): Member => ({
  identity: row.identity,
  name: row.name,
  invitedBy: row.invited_by,
  joinedAt: Number(row.joined_at),
  lastSeen: Number(row.last_seen),
  revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
});

export const inviteOf = (row: InviteRow): StoredInvite => ({
  id: row.id,
  secret: Buffer.from(row.secret),
  name: row.name,
  usesLeft: Number(row.uses_left),
  expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  createdAt: Number(row.created_at),
  createdBy: row.created_by,
});

/** How an invite is described in the log: its name, uses and end. */
export function inviteDetail(invite: Pick<StoredInvite, 'name' | 'usesLeft' | 'expiresAt' | 'createdBy'>): string {
  const end = invite.expiresAt === null ? 'no expiry' : `expires ${new Date(invite.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
  return `${invite.name ?? '(unnamed)'}, ${invite.usesLeft} use${invite.usesLeft === 1 ? '' : 's'}, ${end}, by ${invite.createdBy}`;
}
