import type { Stats } from 'node:fs';
import { sep } from 'node:path';

/*
 * What decides whether a file may be shared as it is read, on the main thread and on the hashing threads
 * alike (which describe small files themselves): nothing here loads more than node's own modules.
 */

/** A file's identity on disk: unchanged identity, unchanged bytes (ctime cannot be set back). */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export function identityOf(stats: Stats): FileIdentity {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

export function isInside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Files up to this size are looked at for a PEM private key while they are hashed: identity and key
 * files are small (an EC key and its certificate take a kilobyte; an RSA one a few).
 */
export const PRIVATE_KEY_SNIFF_BYTES = 64 * 1024;

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Whether the bytes of a small file hold a PEM private key (an identity file, ours or anyone's). */
export function holdsPrivateKey(bytes: Buffer): boolean {
  return PEM_PRIVATE_KEY.test(bytes.toString('latin1'));
}
