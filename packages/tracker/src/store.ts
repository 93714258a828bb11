import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type Content,
  type FileEntry,
  type ListCursor,
  type ListEntry,
  MAX_CONTENTS_PER_NAME,
  MAX_HOLDERS_PER_CONTENT,
  P2PError,
} from '@p2pservice/protocol';

/** Schema version kept in `PRAGMA user_version`; each step in MIGRATIONS moves it up by one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE peers (
     id           INTEGER PRIMARY KEY,
     host         TEXT    NOT NULL,
     port         INTEGER NOT NULL,
     connected_at INTEGER NOT NULL
   );
   CREATE TABLE files (
     peer_id INTEGER NOT NULL REFERENCES peers(id) ON DELETE CASCADE,
     name    TEXT    NOT NULL,
     size    INTEGER NOT NULL,
     sha256  TEXT    NOT NULL,
     PRIMARY KEY (peer_id, name)
   ) WITHOUT ROWID;
   CREATE INDEX files_by_name ON files(name, sha256);
   CREATE INDEX files_by_sha256 ON files(sha256);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

interface HolderRow {
  sha256: string;
  size: number;
  host: string;
  port: number;
}

/**
 * The tracker's state: online peers and the files each shares. A peer row lives exactly as long as its
 * connection; every multi-row change is one transaction, so a reader never sees half a share.
 */
export class TrackerStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly replaceShareTx;

  constructor(readonly file: string) {
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      this.db = new Database(file);
    } catch (error) {
      throw new P2PError('IO_ERROR', `cannot open database ${file}: ${(error as Error).message}`, 'check the path and its permissions', { cause: error });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.statements = {
      insertPeer: this.db.prepare<[string, number, number], { id: number }>(
        'INSERT INTO peers (host, port, connected_at) VALUES (?, ?, ?) RETURNING id',
      ),
      updatePeerPort: this.db.prepare<[number, number]>('UPDATE peers SET port = ? WHERE id = ?'),
      deletePeer: this.db.prepare<[number]>('DELETE FROM peers WHERE id = ?'),
      deleteFilesOf: this.db.prepare<[number]>('DELETE FROM files WHERE peer_id = ?'),
      insertFile: this.db.prepare<[number, string, number, string]>(
        'INSERT INTO files (peer_id, name, size, sha256) VALUES (?, ?, ?, ?)',
      ),
      firstPage: this.db.prepare<[number], ListEntry>(
        `SELECT name, sha256, MIN(size) AS size, COUNT(*) AS holders FROM files
         GROUP BY name, sha256 ORDER BY name, sha256 LIMIT ?`,
      ),
      pageAfter: this.db.prepare<[string, string, number], ListEntry>(
        `SELECT name, sha256, MIN(size) AS size, COUNT(*) AS holders FROM files
         WHERE (name, sha256) > (?, ?)
         GROUP BY name, sha256 ORDER BY name, sha256 LIMIT ?`,
      ),
      holdersOf: this.db.prepare<[string], HolderRow>(
        `SELECT f.sha256, f.size, p.host, p.port FROM files f JOIN peers p ON p.id = f.peer_id
         WHERE f.name = ? ORDER BY f.sha256, p.id`,
      ),
      upsertFile: this.db.prepare<[number, string, number, string]>(
        `INSERT INTO files (peer_id, name, size, sha256) VALUES (?, ?, ?, ?)
         ON CONFLICT (peer_id, name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256`,
      ),
      deleteFile: this.db.prepare<[number, string]>('DELETE FROM files WHERE peer_id = ? AND name = ?'),
      countFilesOf: this.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM files WHERE peer_id = ?'),
      holdersOfContent: this.db.prepare<[string, number], { host: string; port: number }>(
        `SELECT DISTINCT p.host, p.port FROM files f JOIN peers p ON p.id = f.peer_id
         WHERE f.sha256 = ? ORDER BY p.id LIMIT ?`,
      ),
      countPeers: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM peers'),
      countFiles: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM files'),
    };
    this.replaceShareTx = this.db.transaction((peerId: number, port: number, files: readonly FileEntry[]) => {
      this.statements.updatePeerPort.run(port, peerId);
      this.statements.deleteFilesOf.run(peerId);
      for (const file of files) this.statements.insertFile.run(peerId, file.name, file.size, file.sha256);
    });
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new P2PError('IO_ERROR', `database ${this.file} has schema version ${current}, newer than this tracker's ${SCHEMA_VERSION}`, 'upgrade the tracker or use another --db');
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
  }

  /** Forgets every peer: on start, none of them is connected to this process. Returns how many. */
  clearPeers(): number {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM files').run();
      return this.db.prepare('DELETE FROM peers').run().changes;
    })();
  }

  addPeer(host: string, port: number): number {
    return this.statements.insertPeer.get(host, port, Date.now())!.id;
  }

  /** Replaces everything `peerId` shares with `files`, atomically. */
  replaceShare(peerId: number, port: number, files: readonly FileEntry[]): void {
    this.replaceShareTx(peerId, port, files);
  }

  /**
   * Applies a delta to a peer's share in one transaction: `removed` names go, `added` entries are
   * inserted or replace the entry of the same name. If the share would exceed `maxFiles`, nothing changes
   * and TOO_MANY_FILES is thrown. Returns the share's new size.
   */
  applyUpdate(peerId: number, added: readonly FileEntry[], removed: readonly string[], maxFiles: number): number {
    return this.db.transaction(() => {
      for (const name of removed) this.statements.deleteFile.run(peerId, name);
      for (const file of added) this.statements.upsertFile.run(peerId, file.name, file.size, file.sha256);
      const files = this.statements.countFilesOf.get(peerId)!.n;
      if (files > maxFiles) throw new P2PError('TOO_MANY_FILES', `a share of more than ${maxFiles} files is over the limit`);
      return files;
    })();
  }

  /** Deletes the peer and (by cascade) all its files. */
  removePeer(peerId: number): void {
    this.statements.deletePeer.run(peerId);
  }

  /** A page of distinct (name, sha256) rows after `after`, and the cursor for the next page. */
  listPage(after: ListCursor | null, limit: number): { files: ListEntry[]; next: ListCursor | null } {
    const files = after
      ? this.statements.pageAfter.all(after.name, after.sha256, limit)
      : this.statements.firstPage.all(limit);
    const last = files.length === limit ? files[files.length - 1] : undefined;
    return { files, next: last ? { name: last.name, sha256: last.sha256 } : null };
  }

  /** Every content shared under `name`, with its online holders (both capped to protocol limits). */
  whoHas(name: string): Content[] {
    const contents = new Map<string, Content>();
    for (const row of this.statements.holdersOf.iterate(name)) {
      let content = contents.get(row.sha256);
      if (!content) {
        if (contents.size === MAX_CONTENTS_PER_NAME) break;
        content = { sha256: row.sha256, size: row.size, holders: [] };
        contents.set(row.sha256, content);
      }
      if (content.holders.length < MAX_HOLDERS_PER_CONTENT) content.holders.push({ host: row.host, port: row.port });
    }
    return [...contents.values()];
  }

  /** The online holders of content `sha256` under any name (by the sha256 index), capped. */
  whoHasContent(sha256: string): { host: string; port: number }[] {
    return this.statements.holdersOfContent.all(sha256, MAX_HOLDERS_PER_CONTENT);
  }

  counts(): { peers: number; files: number } {
    return { peers: this.statements.countPeers.get()!.n, files: this.statements.countFiles.get()!.n };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
