import { type FileEntry, type ListEntry, P2PError, quoted } from '@p2pservice/protocol';

/** A content's row as both stores read it: `firewalled` is a count (0 when none). */
export interface ContentRow {
  name: string;
  sha256: string;
  size: number;
  holders: number;
  firewalled: number;
}

/** A list row as the wire has it: `firewalled` only when some holder is. */
export function listEntryOf(row: ContentRow): ListEntry {
  const { name, sha256, size, holders, firewalled } = row;
  return firewalled > 0 ? { name, sha256, size, holders, firewalled } : { name, sha256, size, holders };
}

/** DUPLICATE_NAME for the first name `files` holds twice, if any. */
export function duplicateNameIn(files: readonly FileEntry[], what = 'the share'): P2PError | undefined {
  const seen = new Set<string>();
  for (const { name } of files) {
    if (seen.has(name)) return new P2PError('DUPLICATE_NAME', `${what} names ${quoted(name)} twice`);
    seen.add(name);
  }
  return undefined;
}
