import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { P2PError } from '../core/errors.js';
import { base32, fromBase32 } from '../identity/identity-id.js';
import { isMembershipProof, membershipMaterial, membershipProof } from './membership.js';
import type { InviteProof } from './messages.js';

/*
 * Invites to a members network (README#members). An invite is an id the operator sees and a secret only
 * the link carries: `ID.SECRET`, 10 and 52 base32 characters. The client proves the secret as it proves a
 * network key, HMAC-SHA256(secret, M) with M exported from this TLS session, so the secret never travels
 * and a proof is worth nothing on any other connection.
 */

export const INVITE_SECRET_BYTES = 32;

export interface Invite {
  id: string;
  secret: Buffer;
}

/** A new invite: a random id and secret. */
export function generateInvite(): Invite {
  return { id: base32(randomBytes(10)).slice(0, 10), secret: randomBytes(INVITE_SECRET_BYTES) };
}

/** An invite as the join link carries it: `ID.SECRET`. */
export function formatInvite(invite: Invite): string {
  return `${invite.id}.${base32(invite.secret)}`;
}

/** Reads `ID.SECRET`, or BAD_CONFIG naming `what`. */
export function parseInvite(text: string, what = 'invite'): Invite {
  const match = /^([A-Z2-7]{10})\.([A-Z2-7]{52})$/.exec(text.trim().toUpperCase());
  if (!match || !/[AQ]$/.test(match[2]!)) {
    // The text is not echoed: it may be most of a secret.
    throw new P2PError('BAD_CONFIG', `${what} is not an invite (${text.length} characters; an invite is 63)`, 'copy the whole link `tracker invite` printed');
  }
  return { id: match[1]!, secret: fromBase32(match[2]!).subarray(0, INVITE_SECRET_BYTES) };
}

/** The hello's proof that the client of `socket` holds `invite`. */
export function inviteProof(invite: Invite, socket: Socket): InviteProof {
  return { id: invite.id, proof: membershipProof(invite.secret, membershipMaterial(socket)) };
}

/** True if `proof` proves `secret` on this TLS session (compared in constant time). */
export function isInviteProof(secret: Buffer, socket: Socket, proof: InviteProof): boolean {
  return isMembershipProof(secret, membershipMaterial(socket), proof.proof);
}
