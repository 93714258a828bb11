import type { Content, ContentHolder } from '@p2pservice/protocol';

/** A holder as both stores read it: the flag is a column (0/1 in SQLite, a boolean in PostgreSQL). */
export interface HolderFields extends Omit<ContentHolder, 'firewalled'> {
  firewalled: number | boolean;
}

/** One holder of one content of a name, as both stores read them: ordered by sha256, then by peer. */
export interface HolderRow extends HolderFields {
  sha256: string;
  size: number;
}

/** The holder as the wire has it: `firewalled` only when set. */
export function contentHolderOf(row: HolderFields): ContentHolder {
  return { host: row.host, port: row.port, id: row.id, root: row.root, ...(row.firewalled ? { firewalled: true } : {}) };
}

/** The rows grouped into contents: at most `maxContents` of at most `maxHolders` holders each. */
export function contentsOf(rows: Iterable<HolderRow>, maxContents: number, maxHolders: number): Content[] {
  const contents = new Map<string, Content>();
  for (const row of rows) {
    let content = contents.get(row.sha256);
    if (!content) {
      if (contents.size === maxContents) break;
      content = { sha256: row.sha256, size: row.size, holders: [] };
      contents.set(row.sha256, content);
    }
    if (content.holders.length < maxHolders) content.holders.push(contentHolderOf(row));
  }
  return [...contents.values()];
}
