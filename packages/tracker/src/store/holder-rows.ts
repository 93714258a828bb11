import type { Content, ContentHolder } from '@p2pservice/protocol';

/** One holder of one content of a name, as both stores read them: ordered by sha256, then by peer. */
export interface HolderRow extends ContentHolder {
  sha256: string;
  size: number;
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
    if (content.holders.length < maxHolders) content.holders.push({ host: row.host, port: row.port, id: row.id, root: row.root });
  }
  return [...contents.values()];
}
