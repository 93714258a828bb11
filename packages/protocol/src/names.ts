import { MAX_NAME_BYTES, MAX_NAME_DEPTH } from './constants.js';

/**
 * Shared names are relative POSIX paths ("music/a.flac"). They travel from untrusted peers to the
 * tracker, to other peers' terminals and finally into a downloader's file system, so anything that could
 * escape a folder or rewrite a terminal line is refused here, once, for every side.
 */

// C0 and C1 controls, DEL, and the Unicode bidi overrides/isolates/marks that can reorder a terminal line.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const WINDOWS_DRIVE = /^[A-Za-z]:/;

/** Why `name` is not an acceptable shared name, or `undefined` if it is. */
export function sharedNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes`;
  if (!name.isWellFormed()) return 'is not well-formed Unicode';
  if (FORBIDDEN_CHARS.test(name)) return 'contains a control or bidi character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (WINDOWS_DRIVE.test(name)) return 'starts with a drive letter';
  const segments = name.split('/');
  if (segments.length > MAX_NAME_DEPTH) return `is deeper than ${MAX_NAME_DEPTH} folders`;
  for (const segment of segments) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" path segment`;
  }
  return undefined;
}

/** The last segment of a valid shared name: what a download is saved as. */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
