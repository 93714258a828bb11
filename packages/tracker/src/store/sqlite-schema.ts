/**
 * The SQLite schema, one step per version (kept in `PRAGMA user_version`). A database is moved up step
 * by step, each in its own transaction; one from a newer tracker is refused.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
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
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;
