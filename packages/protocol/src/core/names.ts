import { MAX_NAME_BYTES, MAX_NAME_DEPTH } from './constants.js';

/**
 * Shared names are relative POSIX paths ("music/a.flac"). They travel from untrusted peers to the
 * tracker, to other peers' terminals and finally into a downloader's file system, so anything that could
 * escape a folder or rewrite a terminal line is refused here, once, for every side.
 */

// Control characters, invisible format characters (bidi overrides and marks, zero-width joiners, BOM)
// and line/paragraph separators: anything that can hide or reorder text on a terminal.
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
// Characters drawn like a slash or backslash, which a reader (or another OS) may take for a separator.
const SEPARATOR_LOOKALIKES = /[\u2044\u2215\u2216\u2571\u2572\u29f5\u29f6\u29f8\u29f9\ufe68\uff0f\uff3c]/u;
const WINDOWS_DRIVE = /^[A-Za-z]:/;

// Printable ASCII is its own NFKC form and holds no invisible or look-alike character: the common case
// needs only the structural checks (this runs for every name of every share the tracker receives).
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Why `name` is not an acceptable shared name, or `undefined` if it is. */
export function sharedNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length <= MAX_NAME_BYTES && PRINTABLE_ASCII.test(name)) return structureProblem(name);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes`;
  if (!name.isWellFormed()) return 'is not well-formed Unicode';
  if (INVISIBLE_OR_CONTROL.test(name)) return 'contains a control, bidi or invisible character';
  if (SEPARATOR_LOOKALIKES.test(name)) return 'contains a character that looks like a path separator';
  const structural = structureProblem(name);
  if (structural) return structural;
  // Compatibility forms fold into ASCII ("\u2024\u2024" into "..", "\uff0e" into "."): a name that only
  // becomes dangerous once folded is refused too, since some file systems and tools fold it.
  const folded = name.normalize('NFKC');
  if (folded !== name && structureProblem(folded)) return 'contains look-alike characters that fold into a path escape';
  return undefined;
}

function structureProblem(name: string): string | undefined {
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
