import type Database from 'better-sqlite3';
import type { ContentRow } from './content-rows.js';
import type { HolderPeerRow } from './holder-files.js';
import type { HolderFields, HolderRow } from './holder-rows.js';

type Stmt<P extends unknown[], R> = Database.Statement<P, R>;

const prepare = <P extends unknown[], R = unknown>(db: Database.Database, sql: string): Stmt<P, R> => db.prepare<P, R>(sql);

/**
 * The SQLite store's statements, prepared once per database.
 * @internal the store's own: left out of the package's declarations (their types cannot be named there).
 */
export function prepareStatements(db: Database.Database) {
  return {
    insertPeer: prepare<[string, string, number, string, number, number, number], { id: number }>(db, 
      'INSERT INTO peers (instance, host, port, identity, firewalled, connected_at, generation) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    ),
    peerOf: prepare<[number], { firewalled: number; generation: number }>(db, 'SELECT firewalled, generation FROM peers WHERE id = ?'),
    updatePeer: prepare<[string, number, string, number, number]>(db, 'UPDATE peers SET host = ?, port = ?, identity = ?, generation = ? WHERE id = ?'),
    deletePeer: prepare<[number]>(db, 'DELETE FROM peers WHERE id = ?'),
    peersOfInstance: prepare<[string], { id: number }>(db, 'SELECT id FROM peers WHERE instance = ?'),

    fileOf: prepare<[number, string], { sha256: string; gen: number }>(db, 'SELECT sha256, gen FROM files WHERE peer_id = ? AND name = ?'),
    insertFile: prepare<[number, string, number, string, string, number]>(db, 'INSERT INTO files (peer_id, name, size, sha256, root, gen) VALUES (?, ?, ?, ?, ?, ?)'),
    replaceFile: prepare<[number, string, string, number, number, string]>(db, 'UPDATE files SET size = ?, sha256 = ?, root = ?, gen = ? WHERE peer_id = ? AND name = ?'),
    deleteFile: prepare<[number, string]>(db, 'DELETE FROM files WHERE peer_id = ? AND name = ?'),
    // Keyset over the primary key: a big share is walked once, however many slices it takes.
    filesAfter: prepare<[number, string, number], { name: string; sha256: string }>(db, 'SELECT name, sha256 FROM files WHERE peer_id = ? AND name > ? ORDER BY name LIMIT ?'),
    olderFilesAfter: prepare<[number, string, number, number], { name: string; sha256: string }>(db, 
      'SELECT name, sha256 FROM files WHERE peer_id = ? AND name > ? AND gen < ? ORDER BY name LIMIT ?',
    ),
    countFilesOf: prepare<[number], { n: number }>(db, 'SELECT COUNT(*) AS n FROM files WHERE peer_id = ?'),

    // A content's size is the smallest any of its holders gave (honest holders all give the same).
    holdContent: prepare<[string, string, number, number], { id: number; holders: number }>(db, 
      `INSERT INTO contents (name, sha256, size, holders, firewalled) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (name, sha256) DO UPDATE SET holders = holders + 1, firewalled = firewalled + excluded.firewalled, size = MIN(size, excluded.size)
       RETURNING id, holders`,
    ),
    releaseContent: prepare<[number, string, string], { id: number; holders: number }>(db, 
      'UPDATE contents SET holders = holders - 1, firewalled = firewalled - ? WHERE name = ? AND sha256 = ? RETURNING id, holders',
    ),
    deleteContent: prepare<[number]>(db, 'DELETE FROM contents WHERE id = ?'),
    indexContent: prepare<[number, string]>(db, 'INSERT INTO search_index (rowid, text) VALUES (?, ?)'),
    unindexContent: prepare<[number, string]>(db, "INSERT INTO search_index (search_index, rowid, text) VALUES ('delete', ?, ?)"),
    indexPopular: prepare<[number, string]>(db, 'INSERT INTO popular_index (rowid, text) VALUES (?, ?)'),
    unindexPopular: prepare<[number, string]>(db, "INSERT INTO popular_index (popular_index, rowid, text) VALUES ('delete', ?, ?)"),
    holdCopy: prepare<[string, number, string]>(db, 'INSERT INTO holdings (sha256, peer_id, copies, root) VALUES (?, ?, 1, ?) ON CONFLICT (sha256, peer_id) DO UPDATE SET copies = copies + 1'),
    releaseCopy: prepare<[string, number], { copies: number }>(db, 'UPDATE holdings SET copies = copies - 1 WHERE sha256 = ? AND peer_id = ? RETURNING copies'),
    deleteCopy: prepare<[string, number]>(db, 'DELETE FROM holdings WHERE sha256 = ? AND peer_id = ?'),

    // TEXT compares with the BINARY collation: memcmp of UTF-8, the byte order the spec promises.
    // A holder as `holder_files` names it (holder-files.ts); peers is small, so a scan by identity is cheap.
    holderAt: prepare<[string, number, number], HolderPeerRow>(db, 
      `SELECT p.id, p.identity, m.name AS member FROM peers p LEFT JOIN members m ON m.identity = p.identity AND m.revoked_at IS NULL
       WHERE p.host = ? AND p.port = ? ORDER BY p.identity, p.id LIMIT ?`,
    ),
    holderStarting: prepare<[string, string, number], HolderPeerRow>(db, 
      `SELECT p.id, p.identity, m.name AS member FROM peers p LEFT JOIN members m ON m.identity = p.identity AND m.revoked_at IS NULL
       WHERE substr(p.identity, 1, length(?)) = ? ORDER BY p.identity, p.id LIMIT ?`,
    ),
    holderNamed: prepare<[string, number], HolderPeerRow>(db, 
      `SELECT p.id, p.identity, m.name AS member FROM members m JOIN peers p ON p.identity = m.identity
       WHERE m.name = ? AND m.revoked_at IS NULL ORDER BY p.identity, p.id LIMIT ?`,
    ),
    // One peer's files from a name on (its primary key), each with its content's row.
    holderFilesFrom: prepare<[number, string, number], ContentRow>(db, 
      `SELECT c.name, c.sha256, c.size, c.holders, c.firewalled FROM files f JOIN contents c ON c.name = f.name AND c.sha256 = f.sha256
       WHERE f.peer_id = ? AND f.name >= ? ORDER BY f.name LIMIT ?`,
    ),
    firstPage: prepare<[number], ContentRow>(db, 'SELECT name, sha256, size, holders, firewalled FROM contents ORDER BY name, sha256 LIMIT ?'),
    pageAfter: prepare<[string, string, number], ContentRow>(db, 
      'SELECT name, sha256, size, holders, firewalled FROM contents WHERE (name, sha256) > (?, ?) ORDER BY name, sha256 LIMIT ?',
    ),
    // The name's contents (contents' unique index), then each content's holders (holdings), then each
    // holder's file of that name (the primary key of files) if it is that content.
    holdersOf: prepare<[string], HolderRow>(db, 
      `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
       FROM contents c JOIN holdings h ON h.sha256 = c.sha256
       JOIN files f ON f.peer_id = h.peer_id AND f.name = c.name AND f.sha256 = c.sha256 JOIN peers p ON p.id = f.peer_id
       WHERE c.name = ? ORDER BY f.sha256, p.id`,
    ),
    holdersOfNamed: prepare<[string, string], HolderRow>(db, 
      `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
       FROM holdings h JOIN files f ON f.peer_id = h.peer_id AND f.name = ? AND f.sha256 = h.sha256 JOIN peers p ON p.id = f.peer_id
       WHERE h.sha256 = ? ORDER BY p.id`,
    ),
    // A peer sharing the content under several names is one holder (one row of holdings).
    holdersOfContent: prepare<[string], HolderFields>(db, 
      'SELECT p.host, p.port, p.identity AS id, h.root, p.firewalled FROM holdings h JOIN peers p ON p.id = h.peer_id WHERE h.sha256 = ? ORDER BY p.id',
    ),

    joinInstance: prepare<[string, number, number]>(db, 
      `INSERT INTO instances (id, started_at, lease_until) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, lease_until = excluded.lease_until`,
    ),
    leaseOf: prepare<[string], { until: number }>(db, 'SELECT lease_until AS until FROM instances WHERE id = ?'),
    // Renewed while the row is still the one this run joined with: nobody swept it or took its name.
    renewInstance: prepare<[number, string, number]>(db, 'UPDATE instances SET lease_until = ? WHERE id = ? AND started_at = ?'),
    lapsedInstances: prepare<[number, string], { id: string }>(db, 'SELECT id FROM instances WHERE lease_until <= ? AND id <> ?'),
    deleteInstance: prepare<[string]>(db, 'DELETE FROM instances WHERE id = ?'),

    countPeers: prepare<[], { n: number }>(db, 'SELECT COUNT(*) AS n FROM peers'),
    countFiles: prepare<[], { n: number }>(db, 'SELECT COUNT(*) AS n FROM files'),
    countContents: prepare<[], { n: number }>(db, 'SELECT count(*) AS n FROM contents'),
  };
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;
