import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { P2PError } from '../core/errors.js';
import { base32, fromBase32 } from '../identity/identity-id.js';

/*
 * A private network is one whose members know its key (NETWORK_KEY). A client proves it knows the key
 * without sending it: in its hello it sends HMAC-SHA256(key, M), where M is keying material exported
 * from this very TLS session (RFC 8446 §7.5, label below, no context, 32 bytes). Both ends of the session
 * derive the same M and nobody else can, so a proof is worth nothing on any other connection.
 */

export const NETWORK_KEY_BYTES = 32;
export const MEMBERSHIP_EXPORTER_LABEL = 'EXPORTER-p2pservice-membership';
export const MEMBERSHIP_EXPORTER_BYTES = 32;

/** A new network key, as people write it: 52 base32 characters in groups of four. */
export function generateNetworkKey(): string {
  return formatNetworkKey(randomBytes(NETWORK_KEY_BYTES));
}

export function formatNetworkKey(key: Buffer): string {
  return base32(key).match(/.{1,4}/g)!.join('-');
}

/** The 32 key bytes of a network key as written (any case, dashes and spaces optional), or BAD_CONFIG. */
export function parseNetworkKey(text: string, what = 'NETWORK_KEY'): Buffer {
  const compact = text.toUpperCase().replace(/[-\s]/g, '');
  // Only keys made by `tracker start --new-key` (256 random bits): a guessable passphrase could be tried
  // offline against a single proof, so none is accepted.
  if (!/^[A-Z2-7]{52}$/.test(compact) || !/[AQ]$/.test(compact)) {
    throw new P2PError('BAD_CONFIG', `${what} is not a network key`, 'use the key `tracker start --new-key` printed: 52 letters and digits 2-7, dashes optional');
  }
  return fromBase32(compact).subarray(0, NETWORK_KEY_BYTES);
}

/** The keying material of this TLS session that proofs are bound to. */
export function membershipMaterial(socket: Socket): Buffer {
  if (!(socket instanceof TLSSocket)) throw new P2PError('BAD_CONFIG', 'a network key can only be proved over TLS');
  // An empty context: in TLS 1.3 the same as none (RFC 8446 §7.5), so any TLS library derives it alike.
  return socket.exportKeyingMaterial(MEMBERSHIP_EXPORTER_BYTES, MEMBERSHIP_EXPORTER_LABEL, Buffer.alloc(0));
}

/** The proof (64 lowercase hex digits) that the client of `socket` knows `key`. */
export function membershipProof(key: Buffer, material: Buffer): string {
  return createHmac('sha256', key).update(material).digest('hex');
}

/** True if `proof` proves `key` on the session that produced `material` (compared in constant time). */
export function isMembershipProof(key: Buffer, material: Buffer, proof: string | undefined): boolean {
  if (proof === undefined) return false;
  const expected = Buffer.from(membershipProof(key, material), 'hex');
  const given = Buffer.from(proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
