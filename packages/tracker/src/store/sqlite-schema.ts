import type Database from 'better-sqlite3';
import { indexTextOf, POPULAR_HOLDERS, POPULAR_INDEX_SCHEMA, SEARCH_INDEX_SCHEMA, SEARCH_INDEX_SCHEMA_V4 } from './sqlite-search.js';

/** One step of the schema: SQL, or a function for a step that needs this program's code (folding). */
export type Migration = string | ((db: Database.Database) => void);

/**
 * The SQLite schema, one step per version (kept in `PRAGMA user_version`). A database is moved up step
 * by step, each in its own transaction; one from a newer tracker is refused.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
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
  // 2: each peer belongs to the tracker instance holding its connection.
  `ALTER TABLE peers ADD COLUMN instance TEXT NOT NULL DEFAULT 'default';
   CREATE INDEX peers_by_instance ON peers(instance);`,
  // 3: the identity each peer proved in TLS, listed with it as a holder.
  `ALTER TABLE peers ADD COLUMN identity TEXT NOT NULL DEFAULT '';`,
  // 4: search. Each distinct (name, sha256) is a content row, with its holder count (kept by the store
  // in the same transactions as `files`) and a row of the trigram index under the same id.
  (db) => {
    db.exec(`CREATE TABLE contents (
       id      INTEGER PRIMARY KEY,
       name    TEXT    NOT NULL,
       sha256  TEXT    NOT NULL,
       size    INTEGER NOT NULL,
       holders INTEGER NOT NULL,
       UNIQUE (name, sha256)
     );
     ${SEARCH_INDEX_SCHEMA_V4};
     INSERT INTO contents (name, sha256, size, holders)
       SELECT name, sha256, MIN(size), COUNT(*) FROM files GROUP BY name, sha256;
     -- Names are found in contents now; a file's holders by its content (files_by_sha256).
     DROP INDEX files_by_name;`);
    const index = db.prepare<[number, string]>('INSERT INTO search_index (rowid, text) VALUES (?, ?)');
    for (const row of db.prepare<[], { id: number; name: string }>('SELECT id, name FROM contents').all()) index.run(row.id, indexTextOf(row.name));
  },
  // 5: the tracker instances writing to this database, each with the lease it renews (ms since the epoch).
  `CREATE TABLE instances (
     id          TEXT    PRIMARY KEY,
     started_at  INTEGER NOT NULL,
     lease_until INTEGER NOT NULL
   );`,
  // 6: the root of each file's piece tree, listed with its holders. Rows of an earlier version describe
  // peers of a run that has ended (a tracker forgets those when it starts), so none needs a real root.
  `ALTER TABLE files ADD COLUMN root TEXT NOT NULL DEFAULT '';`,
  // 7: a peer the tracker could not reach, listed for download through connect-back (1) or not (0).
  `ALTER TABLE peers ADD COLUMN firewalled INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX peers_firewalled ON peers(id) WHERE firewalled = 1;`,
  // 8: registrations in chunks and fair, cheap who-has answers. A peer's files carry the generation of
  // the registration that last sent them (what a new registration did not send again leaves at its end);
  // each content counts its firewalled holders (list and search rows say so without a scan); `holdings`
  // is each peer's copies of each content (who holds a content, with no scan of its names); and a file is
  // found by content and name at once (a content shared under 100 000 names is not scanned for one).
  `ALTER TABLE peers ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE files ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE contents ADD COLUMN firewalled INTEGER NOT NULL DEFAULT 0;
   UPDATE contents SET firewalled = (SELECT count(*) FROM files f JOIN peers p ON p.id = f.peer_id
     WHERE f.sha256 = contents.sha256 AND f.name = contents.name AND p.firewalled = 1);
   DROP INDEX files_by_sha256;
   CREATE INDEX files_by_content ON files(sha256, name);
   CREATE TABLE holdings (
     sha256  TEXT    NOT NULL,
     peer_id INTEGER NOT NULL,
     copies  INTEGER NOT NULL,
     root    TEXT    NOT NULL,
     PRIMARY KEY (sha256, peer_id)
   ) WITHOUT ROWID;
   INSERT INTO holdings (sha256, peer_id, copies, root) SELECT sha256, peer_id, count(*), min(root) FROM files GROUP BY sha256, peer_id;`,
  // 9: the search index rows are deleted by their text (sqlite-search.ts): the index is made again.
  (db) => {
    db.exec(`DROP TABLE search_index; ${SEARCH_INDEX_SCHEMA};`);
    const index = db.prepare<[number, string]>('INSERT INTO search_index (rowid, text) VALUES (?, ?)');
    for (const row of db.prepare<[], { id: number; name: string }>('SELECT id, name FROM contents').all()) index.run(row.id, indexTextOf(row.name));
  },
  // 10: bans of an identity or a sender, until a time (ms since the epoch) or for good (NULL).
  `CREATE TABLE bans (
     target    TEXT    PRIMARY KEY,
     until     INTEGER,
     banned_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // 11: the members of a members network (or a key network's enrolled key-holders), the invites that
  // admit them, the audit log of joins, invites, revocations and bans, and the identities of the trackers
  // that sign members' tickets (holders trust the ones their own tracker names).
  `CREATE TABLE members (
     identity   TEXT    PRIMARY KEY,
     name       TEXT    NOT NULL,
     invited_by TEXT    NOT NULL,
     joined_at  INTEGER NOT NULL,
     last_seen  INTEGER NOT NULL,
     revoked_at INTEGER
   ) WITHOUT ROWID;
   CREATE INDEX members_by_name ON members (name);
   CREATE TABLE invites (
     id         TEXT    PRIMARY KEY,
     secret     BLOB    NOT NULL,
     name       TEXT,
     uses_left  INTEGER NOT NULL,
     expires_at INTEGER,
     created_at INTEGER NOT NULL,
     created_by TEXT    NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE member_log (
     seq     INTEGER PRIMARY KEY AUTOINCREMENT,
     at      INTEGER NOT NULL,
     event   TEXT    NOT NULL,
     subject TEXT    NOT NULL,
     detail  TEXT    NOT NULL
   );
   CREATE TABLE ticket_signers (
     identity TEXT    PRIMARY KEY,
     seen_at  INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // 12: contents in the search's own order (most held first, then name and sha256), with what a result
  // shows: a broad search reads the first few hundred and is done (sqlite-search-run.ts).
  `CREATE INDEX contents_by_holders ON contents (holders DESC, name, sha256, size, firewalled);`,
  // 13: who holds a content is found through holdings (by sha256) and then each holder's file by its
  // primary key; the index of files by content cost every registration and removal a random page write
  // (a fifth of their time) and the database a seventh of its size.
  `DROP INDEX files_by_content;`,
  // 14: the contents held by POPULAR_HOLDERS peers or more, indexed again on their own (sqlite-search.ts).
  (db) => {
    db.exec(POPULAR_INDEX_SCHEMA);
    const index = db.prepare<[number, string]>('INSERT INTO popular_index (rowid, text) VALUES (?, ?)');
    const popular = db.prepare<[number], { id: number; name: string }>('SELECT id, name FROM contents WHERE holders >= ? ORDER BY id');
    for (const row of popular.all(POPULAR_HOLDERS)) index.run(row.id, indexTextOf(row.name));
  },
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;
