import { createHash } from 'node:crypto';
import { P2PError } from '../core/errors.js';

/*
 * An identity is the SHA-256 of a certificate (its DER bytes). People see it in a typeable form, as
 * Syncthing shows device IDs: the 32 bytes in base32 (RFC 4648, no padding: 52 characters), cut into four
 * runs of 13, each followed by a Luhn mod 32 check character, shown as 8 groups of 7 joined by dashes:
 *
 *   4AR2JQT-X7GQFVG-3CYJU3O-TKEFSXU-3XOB2TS-KUVDWLF-RPEP7PK-5NQ2C3Y
 *
 * A mistyped character fails its run's check. The short form, for display, is the first group.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export const IDENTITY_FINGERPRINT_BYTES = 32;

export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function fromBase32(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) throw new Error(`not base32: ${char}`);
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The Luhn mod N check character (N = 32) of `run` (Wikipedia: Luhn mod N algorithm). */
export function luhn32(run: string): string {
  let factor = 2;
  let sum = 0;
  for (let i = run.length - 1; i >= 0; i--) {
    const addend = factor * ALPHABET.indexOf(run[i]!);
    factor = factor === 2 ? 1 : 2;
    sum += Math.floor(addend / 32) + (addend % 32);
  }
  return ALPHABET[(32 - (sum % 32)) % 32]!;
}

/** The identity of a certificate given as DER. */
export function identityOfCertificate(der: Buffer): string {
  return identityOfFingerprint(createHash('sha256').update(der).digest());
}

export function identityOfFingerprint(fingerprint: Buffer): string {
  if (fingerprint.length !== IDENTITY_FINGERPRINT_BYTES) throw new Error('a fingerprint is 32 bytes');
  const text = base32(fingerprint);
  const runs = [0, 13, 26, 39].map((at) => text.slice(at, at + 13));
  const checked = runs.map((run) => run + luhn32(run)).join('');
  return checked.match(/.{7}/g)!.join('-');
}

/** The first group of an identity: enough to tell identities apart at a glance, not to pin one. */
export function shortIdentity(id: string): string {
  return id.slice(0, 7);
}

/**
 * An identity as a person typed it (any case, with or without dashes or spaces) in its canonical form,
 * or BAD_CONFIG saying what is wrong with it.
 */
export function parseIdentity(text: string, what = 'identity'): string {
  const compact = text.toUpperCase().replace(/[-\s]/g, '');
  if (!/^[A-Z2-7]{56}$/.test(compact)) {
    throw new P2PError('BAD_CONFIG', `${what} "${text.slice(0, 80)}" is not an identity`, 'an identity is 56 letters and digits 2-7 in 8 groups of 7, as `tracker start` prints it');
  }
  const runs = [0, 14, 28, 42].map((at) => compact.slice(at, at + 14));
  for (const run of runs) {
    if (luhn32(run.slice(0, 13)) !== run[13]) {
      throw new P2PError('BAD_CONFIG', `${what} "${text.slice(0, 80)}" has a mistyped character (its check characters do not match)`, 'copy it again from `tracker start`');
    }
  }
  return compact.match(/.{7}/g)!.join('-');
}

/** The fingerprint (SHA-256 of the certificate) an identity stands for. */
export function fingerprintOfIdentity(id: string): Buffer {
  const compact = parseIdentity(id).replace(/-/g, '');
  const text = [0, 14, 28, 42].map((at) => compact.slice(at, at + 13)).join('');
  return fromBase32(text).subarray(0, IDENTITY_FINGERPRINT_BYTES);
}
