import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type Content,
  type FileEntry,
  type ContentHolder,
  type HolderRecord,
  type ListCursor,
  type ListEntry,
  P2PError,
  type RankedEntry,
  type SearchCursor,
  type SearchQuery,
} from '@p2pservice/protocol';
import { contentHolderOf, contentsOf, type HolderFields, type HolderRow } from './holder-rows.js';
import { SearchRanking } from './search-ranking.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { indexTextOf, matchExpressionOf } from './sqlite-search.js';
import type { PeerId, StoreCounts, TrackerStore } from './store.js';

export interface SqliteStoreOptions {
  /** The tracker instance whose peers this store writes (default "default": one tracker per file). */
  instance?: string;
}

function prepareStatements(db: Database.Database) {
  return {
    insertPeer: db.prepare<[string, string, number, string, number, number], { id: number }>(
      'INSERT INTO peers (instance, host, port, identity, firewalled, connected_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    ),
    updatePeer: db.prepare<[string, number, string, number, number]>('UPDATE peers SET host = ?, port = ?, identity = ?, firewalled = ? WHERE id = ?'),
    deletePeer: db.prepare<[number]>('DELETE FROM peers WHERE id = ?'),
    deleteFilesOf: db.prepare<[number]>('DELETE FROM files WHERE peer_id = ?'),
    filesOf: db.prepare<[number], { name: string; sha256: string }>('SELECT name, sha256 FROM files WHERE peer_id = ?'),
    filesOfInstance: db.prepare<[string], { name: string; sha256: string }>(
      'SELECT f.name, f.sha256 FROM files f JOIN peers p ON p.id = f.peer_id WHERE p.instance = ?',
    ),
    fileOf: db.prepare<[number, string], { sha256: string }>('SELECT sha256 FROM files WHERE peer_id = ? AND name = ?'),
    // A content's size is the smallest any of its holders gave (honest holders all give the same).
    holdContent: db.prepare<[string, string, number], { id: number; holders: number }>(
      `INSERT INTO contents (name, sha256, size, holders) VALUES (?, ?, ?, 1)
       ON CONFLICT (name, sha256) DO UPDATE SET holders = holders + 1, size = MIN(size, excluded.size)
       RETURNING id, holders`,
    ),
    releaseContent: db.prepare<[string, string], { id: number; holders: number }>(
      'UPDATE contents SET holders = holders - 1 WHERE name = ? AND sha256 = ? RETURNING id, holders',
    ),
    deleteContent: db.prepare<[number]>('DELETE FROM contents WHERE id = ?'),
    indexContent: db.prepare<[number, string]>('INSERT INTO search_index (rowid, text) VALUES (?, ?)'),
    unindexContent: db.prepare<[number]>('DELETE FROM search_index WHERE rowid = ?'),
    // Raw rows (arrays): a broad search reads a hundred thousand of them.
    searchCandidates: db.prepare<[string, number, number], [string, string, number, number]>(
      `SELECT c.name, c.sha256, c.size, c.holders FROM search_index s JOIN contents c ON c.id = s.rowid
       WHERE search_index MATCH ? AND c.size BETWEEN ? AND ?`,
    ).raw(true),
    insertFile: db.prepare<[number, string, number, string, string]>('INSERT INTO files (peer_id, name, size, sha256, root) VALUES (?, ?, ?, ?, ?)'),
    upsertFile: db.prepare<[number, string, number, string, string]>(
      `INSERT INTO files (peer_id, name, size, sha256, root) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (peer_id, name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, root = excluded.root`,
    ),
    deleteFile: db.prepare<[number, string]>('DELETE FROM files WHERE peer_id = ? AND name = ?'),
    countFilesOf: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM files WHERE peer_id = ?'),
    deleteFilesOfInstance: db.prepare<[string]>('DELETE FROM files WHERE peer_id IN (SELECT id FROM peers WHERE instance = ?)'),
    deletePeersOfInstance: db.prepare<[string]>('DELETE FROM peers WHERE instance = ?'),
    // TEXT compares with the BINARY collation: memcmp of UTF-8, the byte order the spec promises.
    firstPage: db.prepare<[number], ListEntry>('SELECT name, sha256, size, holders FROM contents ORDER BY name, sha256 LIMIT ?'),
    pageAfter: db.prepare<[string, string, number], ListEntry>(
      'SELECT name, sha256, size, holders FROM contents WHERE (name, sha256) > (?, ?) ORDER BY name, sha256 LIMIT ?',
    ),
    // The name's contents (contents' unique index), then each content's files (files_by_sha256).
    holdersOf: db.prepare<[string], HolderRow>(
      `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
       FROM contents c JOIN files f ON f.sha256 = c.sha256 AND f.name = c.name JOIN peers p ON p.id = f.peer_id
       WHERE c.name = ? ORDER BY f.sha256, p.id`,
    ),
    holdersOfContent: db.prepare<[string, number], HolderFields>(
      // A peer sharing the content under several names is one holder.
      `SELECT p.host, p.port, p.identity AS id, MIN(f.root) AS root, p.firewalled FROM files f JOIN peers p ON p.id = f.peer_id
       WHERE f.sha256 = ? GROUP BY p.id ORDER BY p.id LIMIT ?`,
    ),
    anyFirewalled: db.prepare<[], { id: number }>('SELECT id FROM peers WHERE firewalled = 1 LIMIT 1'),
    firewalledHoldersOf: db.prepare<[string, string], { n: number }>(
      'SELECT COUNT(*) AS n FROM files f JOIN peers p ON p.id = f.peer_id WHERE f.sha256 = ? AND f.name = ? AND p.firewalled = 1',
    ),
    joinInstance: db.prepare<[string, number, number]>(
      `INSERT INTO instances (id, started_at, lease_until) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, lease_until = excluded.lease_until`,
    ),
    leaseOf: db.prepare<[string], { until: number }>('SELECT lease_until AS until FROM instances WHERE id = ?'),
    renewInstance: db.prepare<[number, string, number]>('UPDATE instances SET lease_until = ? WHERE id = ? AND lease_until > ?'),
    lapsedInstances: db.prepare<[number, string], { id: string }>('SELECT id FROM instances WHERE lease_until <= ? AND id <> ?'),
    deleteInstance: db.prepare<[string]>('DELETE FROM instances WHERE id = ?'),
    countPeers: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM peers'),
    countFiles: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM files'),
    countContents: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM contents'),
  };
}

/**
 * The tracker's state in one SQLite file (WAL), through better-sqlite3. Its calls are synchronous and
 * fast (a share of 100 000 rows is one transaction); the async interface is for backends that are not.
 */
export class SqliteStore implements TrackerStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
    readonly instance: string,
  ) {
    this.statements = prepareStatements(db);
  }

  /** Opens (creating it and its folder if missing) and migrates the database in `file`. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    let db: Database.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
    } catch (error) {
      throw new P2PError('IO_ERROR', `cannot open database ${file}: ${(error as Error).message}`, 'check the path and its permissions', { cause: error });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteStore(db, file, options.instance ?? 'default');
  }

  async join(leaseMs: number): Promise<number> {
    return this.db.transaction(() => {
      const forgotten = this.forgetInstance(this.instance);
      const now = Date.now();
      this.statements.joinInstance.run(this.instance, now, now + leaseMs);
      return forgotten;
    })();
  }

  async leaseOf(): Promise<{ until: number; leftMs: number } | undefined> {
    const row = this.statements.leaseOf.get(this.instance);
    return row && { until: row.until, leftMs: Math.max(0, row.until - Date.now()) };
  }

  async renewLease(leaseMs: number): Promise<boolean> {
    const now = Date.now();
    return this.statements.renewInstance.run(now + leaseMs, this.instance, now).changes === 1;
  }

  async sweepLapsed(): Promise<number> {
    return this.db.transaction(() => {
      let removed = 0;
      for (const { id } of this.statements.lapsedInstances.all(Date.now(), this.instance)) {
        removed += this.forgetInstance(id);
        this.statements.deleteInstance.run(id);
      }
      return removed;
    })();
  }

  async leave(): Promise<void> {
    this.db.transaction(() => {
      this.forgetInstance(this.instance);
      this.statements.deleteInstance.run(this.instance);
    })();
  }

  /** Deletes the peers of `instance` and their files; returns how many peers. Runs in the caller's transaction. */
  private forgetInstance(instance: string): number {
    for (const file of this.statements.filesOfInstance.all(instance)) this.release(file);
    this.statements.deleteFilesOfInstance.run(instance);
    return this.statements.deletePeersOfInstance.run(instance).changes;
  }

  async putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId> {
    return this.db.transaction(() => {
      let id = peer;
      if (id === undefined) {
        id = this.statements.insertPeer.get(this.instance, holder.host, holder.port, holder.id, holder.firewalled ? 1 : 0, Date.now())!.id;
      } else {
        this.statements.updatePeer.run(holder.host, holder.port, holder.id, holder.firewalled ? 1 : 0, id);
        this.releaseFilesOf(id);
        this.statements.deleteFilesOf.run(id);
      }
      for (const file of files) {
        this.statements.insertFile.run(id, file.name, file.size, file.sha256, file.root);
        this.hold(file);
      }
      return id;
    })();
  }

  async updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[], maxFiles: number): Promise<number> {
    return this.db.transaction(() => {
      for (const name of removed) {
        const old = this.statements.fileOf.get(peer, name);
        if (!old) continue;
        this.release({ name, sha256: old.sha256 });
        this.statements.deleteFile.run(peer, name);
      }
      for (const file of added) {
        const old = this.statements.fileOf.get(peer, file.name);
        if (old) this.release({ name: file.name, sha256: old.sha256 });
        this.statements.upsertFile.run(peer, file.name, file.size, file.sha256, file.root);
        this.hold(file);
      }
      const files = this.statements.countFilesOf.get(peer)!.n;
      if (files > maxFiles) throw new P2PError('TOO_MANY_FILES', `a share of more than ${maxFiles} files is over the limit`);
      return files;
    })();
  }

  async removePeer(peer: PeerId): Promise<void> {
    this.db.transaction(() => {
      this.releaseFilesOf(peer);
      // Files go by ON DELETE CASCADE.
      this.statements.deletePeer.run(peer);
    })();
  }

  async search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]> {
    const ranking = new SearchRanking(query, after, limit, deadline);
    const candidates = this.statements.searchCandidates.iterate(matchExpressionOf(query), query.minSize ?? 0, query.maxSize ?? Number.MAX_SAFE_INTEGER);
    try {
      // The index gives candidates in no useful order, so every one is offered.
      for (const [name, sha256, size, holders] of candidates) ranking.offer(name, sha256, size, holders);
    } finally {
      candidates.return?.();
    }
    return ranking.entries;
  }

  async listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    return after ? this.statements.pageAfter.all(after.name, after.sha256, limit) : this.statements.firstPage.all(limit);
  }

  async whoHas(name: string, maxContents: number, maxHolders: number): Promise<Content[]> {
    return contentsOf(this.statements.holdersOf.iterate(name), maxContents, maxHolders);
  }

  async firewalledHolders(contents: readonly { name: string; sha256: string }[]): Promise<number[]> {
    if (contents.length === 0 || this.statements.anyFirewalled.get() === undefined) return contents.map(() => 0);
    return contents.map(({ name, sha256 }) => this.statements.firewalledHoldersOf.get(sha256, name)!.n);
  }

  async whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]> {
    return this.statements.holdersOfContent.all(sha256, maxHolders).map(contentHolderOf);
  }

  // Content rows, and their rows in the search index, follow the file rows in the caller's transaction:
  // a content exists exactly while some file row names it, so a search never finds a peer that left.

  private hold(file: FileEntry): void {
    const content = this.statements.holdContent.get(file.name, file.sha256, file.size)!;
    if (content.holders === 1) this.statements.indexContent.run(content.id, indexTextOf(file.name));
  }

  private release(file: { name: string; sha256: string }): void {
    const content = this.statements.releaseContent.get(file.name, file.sha256);
    if (!content || content.holders > 0) return;
    this.statements.deleteContent.run(content.id);
    this.statements.unindexContent.run(content.id);
  }

  private releaseFilesOf(peer: PeerId): void {
    for (const file of this.statements.filesOf.all(peer)) this.release(file);
  }

  async counts(): Promise<StoreCounts> {
    return { peers: this.statements.countPeers.get()!.n, files: this.statements.countFiles.get()!.n };
  }

  async countContents(): Promise<number> {
    return this.statements.countContents.get()!.n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SQLITE_SCHEMA_VERSION) {
    throw new P2PError('IO_ERROR', `database ${file} has schema version ${current}, newer than this tracker's ${SQLITE_SCHEMA_VERSION}`, 'upgrade the tracker or use another --db');
  }
  for (let version = current; version < SQLITE_SCHEMA_VERSION; version++) {
    db.transaction(() => {
      const step = SQLITE_MIGRATIONS[version]!;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
