import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import { bitString, boolean, explicit, objectIdentifier, octetString, sequence, set, time, unsignedInteger, utf8String } from './der.js';

/** ecdsa-with-SHA256 (RFC 5758 §3.2): the certificate's signature algorithm, with no parameters. */
const ECDSA_WITH_SHA256 = sequence(objectIdentifier('1.2.840.10045.4.3.2'));
const COMMON_NAME = '2.5.4.3';
const BASIC_CONSTRAINTS = '2.5.29.19';
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

export interface CertificateOptions {
  /** Subject and issuer common name (a label: identities are fingerprints, never names). */
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * A self-signed X.509 v3 certificate (DER) for an EC P-256 key pair: the identity a peer or a tracker
 * presents in TLS. Only its SHA-256 fingerprint matters to the protocol; the fields are there so that
 * TLS libraries accept it (RFC 5280 profile: v3, positive serial, not a CA).
 */
export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, options: CertificateOptions): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = sequence(set(sequence(objectIdentifier(COMMON_NAME), utf8String(options.commonName))));
  // The subject key identifier is the SHA-1 of the key, as RFC 5280 §4.2.1.2 (1) describes: a label, not a security property.
  const keyBits = spki.subarray(spki.length - 65);
  const extensions = explicit(
    3,
    sequence(
      sequence(objectIdentifier(BASIC_CONSTRAINTS), boolean(true), octetString(sequence())),
      sequence(objectIdentifier(SUBJECT_KEY_IDENTIFIER), octetString(octetString(createHash('sha1').update(keyBits).digest()))),
    ),
  );
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(randomBytes(16)),
    ECDSA_WITH_SHA256,
    name,
    sequence(time(options.notBefore), time(options.notAfter)),
    name,
    spki,
    extensions,
  );
  // Node signs EC keys with a DER-encoded ECDSA-Sig-Value: exactly what the BIT STRING carries.
  const signature = sign('sha256', tbs, privateKey);
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
}

export function toPem(der: Buffer, label: 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
