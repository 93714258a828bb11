import { ownerOnlyProblem } from '../core/owner-only.js';
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { P2PError } from '../core/errors.js';
import { selfSignedCertificate, toPem } from './certificate.js';
import { identityOfCertificate } from './identity-id.js';

/** A tracker's or peer's long-lived key and self-signed certificate, and the identity they stand for. */
export interface Identity {
  /** PEM of the private key (PKCS#8), for TLS. */
  key: string;
  /** PEM of the certificate, for TLS. */
  cert: string;
  /** The SHA-256 of the certificate in its typeable form (see identity-id.ts). */
  id: string;
}

/** How long a new identity's certificate is valid: long-lived, like an ssh host key. */
export const IDENTITY_VALID_YEARS = 20;

/** A new key pair (EC P-256) and its self-signed certificate, in memory. */
export function createIdentity(commonName: string, now = new Date()): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + IDENTITY_VALID_YEARS);
  // A day of slack before now, so that a peer whose clock is behind still accepts it.
  const der = selfSignedCertificate(privateKey, publicKey, { commonName, notBefore: new Date(now.getTime() - 86_400_000), notAfter });
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: toPem(der, 'CERTIFICATE'), id: identityOfCertificate(der) };
}

/** The file holding the identity of `role` ("tracker", "peer") in `dir`: key and certificate, mode 0600. */
export function identityFile(dir: string, role: string): string {
  return join(dir, `${role}-identity.pem`);
}

/**
 * The identity of `role` kept in `dir`, made on first use. The file must be readable by its owner only:
 * a key others can read is no secret, so it is refused (with the command that fixes it) rather than used.
 */
export async function loadOrCreateIdentity(
  dir: string,
  role: string,
  platform: NodeJS.Platform = process.platform,
): Promise<{ identity: Identity; file: string; created: boolean; unchecked: boolean }> {
  const file = identityFile(dir, role);
  // Where modes say nothing (Windows), the caller says that nobody checked who can read the key.
  const unchecked = ownerOnlyProblem(0, platform) === 'unknown';
  const existing = await readIdentity(file, platform);
  if (existing) return { identity: existing, file, created: false, unchecked };
  const identity = createIdentity(`p2pservice ${role}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: it appears whole or not at all, and of two processes making
    // one at the same moment, only the first link wins; the other uses the winner's.
    const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(aside, identity.key + identity.cert, { mode: 0o600, flag: 'wx' });
    try {
      await link(aside, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = await readIdentity(file, platform);
      if (winner) return { identity: winner, file, created: false, unchecked };
    } finally {
      await unlink(aside).catch(() => undefined);
    }
  } catch (error) {
    if (error instanceof P2PError) throw error;
    throw new P2PError('IO_ERROR', `cannot save the ${role} identity in ${file}: ${(error as Error).message}`, 'check that the folder is writable (XDG_CONFIG_HOME)', { cause: error });
  }
  return { identity, file, created: true, unchecked };
}

/** The identity in `file`, undefined if there is none; BAD_CONFIG for one that cannot be trusted or read. */
async function readIdentity(file: string, platform: NodeJS.Platform): Promise<Identity | undefined> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, error);
  }
  if (ownerOnlyProblem(mode, platform) === 'others') {
    throw new P2PError('BAD_CONFIG', `identity key ${file} can be read by other users (mode ${(mode & 0o777).toString(8)})`, `make it private with: chmod 600 ${file}`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  let privateKey: KeyObject;
  let certificate: X509Certificate;
  try {
    if (!key || !cert) throw new Error('missing block');
    privateKey = createPrivateKey(key);
    certificate = new X509Certificate(cert);
    if (!certificate.checkPrivateKey(privateKey)) throw new Error('key and certificate do not match');
  } catch {
    throw new P2PError('BAD_CONFIG', `identity file ${file} does not hold a private key and its certificate`, 'move it away to make a new identity (peers who pinned the old one will need the new one)');
  }
  if (new Date(certificate.validTo) < new Date()) {
    throw new P2PError('BAD_CONFIG', `the identity in ${file} expired on ${certificate.validTo}`, 'move the file away to make a new identity');
  }
  return { key, cert, id: identityOfCertificate(certificate.raw) };
}

function unreadable(file: string, error: unknown): P2PError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
  return new P2PError('BAD_CONFIG', `cannot read identity ${file}: ${reason}`, `it must be a file its owner can read: chmod 600 ${file}`);
}
