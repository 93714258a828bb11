import type pg from 'pg';
import { searchTextOf } from './pg-search.js';

/*
 * What a change of file rows does to the rows that follow them, gathered per transaction and applied in
 * two statements: each content's holder and firewalled counts (and its search text when it may be new),
 * and each peer's holding of each content (its copies, for who_has_content).
 */

/** A size no real file has: a holder count going down never lowers a content's size. */
const NO_SIZE = Number.MAX_SAFE_INTEGER;

interface ContentChange {
  name: string;
  sha256: string;
  size: number;
  by: number;
  firewalledBy: number;
}

interface HoldingChange {
  sha256: string;
  peer: number;
  root: string;
  by: number;
}

/** A file as a change sees it: its content, and whose copy it is. */
export interface FileRow {
  name: string;
  sha256: string;
  size?: number;
  root?: string;
}

export class HolderChanges {
  private readonly contents = new Map<string, ContentChange>();
  private readonly holdings = new Map<string, HoldingChange>();

  /** `file` of `peer` (firewalled or not) joins (+1) or leaves (-1) the network's lists. */
  add(peer: number, firewalled: boolean, file: FileRow, by: 1 | -1): void {
    const key = `${file.sha256}\u0000${file.name}`;
    const content = this.contents.get(key);
    if (content) {
      content.by += by;
      content.firewalledBy += firewalled ? by : 0;
      if (file.size !== undefined) content.size = Math.min(content.size, file.size);
    } else {
      this.contents.set(key, { name: file.name, sha256: file.sha256, size: file.size ?? NO_SIZE, by, firewalledBy: firewalled ? by : 0 });
    }
    const holdingKey = `${file.sha256}\u0000${peer}`;
    const holding = this.holdings.get(holdingKey);
    if (holding) holding.by += by;
    else this.holdings.set(holdingKey, { sha256: file.sha256, peer, root: file.root ?? '', by });
  }

  /** Applies the changes in `client`'s transaction. */
  async apply(client: pg.ClientBase): Promise<void> {
    const contents = [...this.contents.values()].filter((c) => c.by !== 0 || c.firewalledBy !== 0);
    if (contents.length > 0) {
      // Only a content that may be new needs its search text (a lowered count never inserts a row).
      const texts = contents.map((c) => (c.by > 0 ? searchTextOf(c.name) : ''));
      await client.query(prepared('changeContents', [contents.map((c) => c.name), contents.map((c) => c.sha256), contents.map((c) => c.size), contents.map((c) => c.by), contents.map((c) => c.firewalledBy), texts]));
      const lower = contents.filter((c) => c.by < 0);
      if (lower.length > 0) await client.query(prepared('dropUnheldContents', [lower.map((c) => c.name), lower.map((c) => c.sha256)]));
    }
    const holdings = [...this.holdings.values()].filter((h) => h.by !== 0);
    if (holdings.length > 0) {
      await client.query(prepared('changeHoldings', [holdings.map((h) => h.sha256), holdings.map((h) => h.peer), holdings.map((h) => h.by), holdings.map((h) => h.root)]));
      const lower = holdings.filter((h) => h.by < 0);
      if (lower.length > 0) await client.query(prepared('dropEmptyHoldings', [lower.map((h) => h.sha256), lower.map((h) => h.peer)]));
    }
  }
}

const STATEMENTS = {
  // Rows are upserted in key order: two transactions lock the rows they share in the same order, and
  // never wait for each other in a circle.
  changeContents: `INSERT INTO contents AS c (name, sha256, size, holders, firewalled, search_text)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::integer[], $6::text[]) AS u(name, sha256, size, holders, firewalled, search_text)
    ORDER BY u.name COLLATE "C", u.sha256 COLLATE "C"
    ON CONFLICT (name, sha256) DO UPDATE SET holders = c.holders + excluded.holders, firewalled = c.firewalled + excluded.firewalled, size = LEAST(c.size, excluded.size)`,
  dropUnheldContents: `DELETE FROM contents c USING unnest($1::text[], $2::text[]) AS g(name, sha256)
    WHERE c.name = g.name AND c.sha256 = g.sha256 AND c.holders <= 0`,
  changeHoldings: `INSERT INTO holdings AS h (sha256, peer_id, copies, root)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::text[]) AS u(sha256, peer_id, copies, root)
    ORDER BY u.sha256 COLLATE "C", u.peer_id
    ON CONFLICT (sha256, peer_id) DO UPDATE SET copies = h.copies + excluded.copies`,
  dropEmptyHoldings: `DELETE FROM holdings h USING unnest($1::text[], $2::bigint[]) AS g(sha256, peer_id)
    WHERE h.sha256 = g.sha256 AND h.peer_id = g.peer_id AND h.copies <= 0`,
} as const;

const prepared = (name: keyof typeof STATEMENTS, values: unknown[]): pg.QueryConfig => ({ name, text: STATEMENTS[name], values });
