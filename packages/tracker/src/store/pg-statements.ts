import type pg from 'pg';

/** The PostgreSQL store's statements: each prepared once per pooled connection, then only bound and run. */
const STATEMENTS = {
  nextPeerId: `SELECT nextval(pg_get_serial_sequence('peers', 'id')) AS id`,
  insertPeer: 'INSERT INTO peers (id, instance, host, port, identity, firewalled, generation) VALUES ($1, $2, $3, $4, $5, $6, 1)',
  peerOf: 'SELECT firewalled, generation FROM peers WHERE id = $1',
  movePeer: 'UPDATE peers SET host = $2, port = $3, identity = $4, generation = generation + 1 WHERE id = $1 RETURNING generation',
  deletePeer: 'DELETE FROM peers WHERE id = $1',
  somePeersOf: 'SELECT id FROM peers WHERE instance = $1 ORDER BY id LIMIT $2',

  namedFilesOf: 'SELECT name, sha256, gen FROM files WHERE peer_id = $1 AND name = ANY($2::text[]) FOR UPDATE',
  upsertFiles: `INSERT INTO files (peer_id, name, size, sha256, root, gen)
    SELECT $1, u.*, $6 FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(name, size, sha256, root)
    ON CONFLICT (peer_id, name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, root = excluded.root, gen = excluded.gen`,
  deleteNamedFilesOf: 'DELETE FROM files WHERE peer_id = $1 AND name = ANY($2::text[]) RETURNING name, sha256',
  // A batch at a time: concurrent removals of the same peer (two trackers sweeping) each delete, and
  // count, different rows.
  deleteSomeFilesOf: `DELETE FROM files WHERE peer_id = $1 AND name IN (SELECT name FROM files WHERE peer_id = $1 LIMIT $2) RETURNING name, sha256`,
  deleteSomeOlderFilesOf: `DELETE FROM files WHERE peer_id = $1 AND name IN (SELECT name FROM files WHERE peer_id = $1 AND gen < $2 LIMIT $3) RETURNING name, sha256`,
  countFilesOf: 'SELECT count(*)::int AS n FROM files WHERE peer_id = $1',

  joinInstance: `INSERT INTO instances (id, lease_until) VALUES ($1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET started_at = now(), lease_until = excluded.lease_until`,
  leaseOf: `SELECT (extract(epoch FROM lease_until) * 1000)::float8 AS until,
    greatest(0, extract(epoch FROM lease_until - now()) * 1000)::float8 AS left_ms FROM instances WHERE id = $1`,
  renewInstance: `UPDATE instances SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1 AND lease_until > now()`,
  lapsedInstances: 'SELECT id FROM instances WHERE lease_until <= now() AND id <> $1 ORDER BY id',
  deleteSweptInstance: `DELETE FROM instances i WHERE id = $1 AND lease_until <= now() AND NOT EXISTS (SELECT 1 FROM peers WHERE instance = i.id)`,
  deleteInstance: 'DELETE FROM instances WHERE id = $1',

  // A holder as `holder_files` names it (holder-files.ts); peers is small, so a scan by identity is cheap.
  holderAt: `SELECT p.id, p.identity, m.name AS member FROM peers p LEFT JOIN members m ON m.identity = p.identity AND m.revoked_at IS NULL
    WHERE p.host = $1 AND p.port = $2 ORDER BY p.identity COLLATE "C", p.id LIMIT $3`,
  holderStarting: `SELECT p.id, p.identity, m.name AS member FROM peers p LEFT JOIN members m ON m.identity = p.identity AND m.revoked_at IS NULL
    WHERE left(p.identity, length($1)) = $1 ORDER BY p.identity COLLATE "C", p.id LIMIT $2`,
  holderNamed: `SELECT p.id, p.identity, m.name AS member FROM members m JOIN peers p ON p.identity = m.identity
    WHERE m.name = $1 AND m.revoked_at IS NULL ORDER BY p.identity COLLATE "C", p.id LIMIT $2`,
  // One peer's files from a name on (its primary key), each with its content's row.
  holderFilesFrom: `SELECT c.name, c.sha256, c.size, c.holders, c.firewalled FROM files f JOIN contents c ON c.name = f.name AND c.sha256 = f.sha256
    WHERE f.peer_id = $1 AND f.name >= $2 ORDER BY f.name LIMIT $3`,
  firstPage: 'SELECT name, sha256, size, holders, firewalled FROM contents ORDER BY name, sha256 LIMIT $1',
  pageAfter: 'SELECT name, sha256, size, holders, firewalled FROM contents WHERE (name, sha256) > ($1, $2) ORDER BY name, sha256 LIMIT $3',
  // The name's contents, each content's holders (holdings), each holder's file of that name (files' key).
  holdersOf: `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
    FROM contents c JOIN holdings h ON h.sha256 = c.sha256
    JOIN files f ON f.peer_id = h.peer_id AND f.name = c.name AND f.sha256 = c.sha256 JOIN peers p ON p.id = f.peer_id
    WHERE c.name = $1 ORDER BY f.sha256, p.id`,
  holdersOfNamed: `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
    FROM holdings h JOIN files f ON f.peer_id = h.peer_id AND f.name = $2 AND f.sha256 = h.sha256 JOIN peers p ON p.id = f.peer_id
    WHERE h.sha256 = $1 ORDER BY p.id`,
  // A peer sharing the content under several names is one holder (one row of holdings).
  holdersOfContent: `SELECT p.host, p.port, p.identity AS id, h.root, p.firewalled
    FROM holdings h JOIN peers p ON p.id = h.peer_id WHERE h.sha256 = $1 ORDER BY p.id`,
  counts: 'SELECT (SELECT count(*) FROM peers) AS peers, (SELECT count(*) FROM files) AS files',
  countContents: 'SELECT count(*)::int AS n FROM contents',
} as const;

export const prepared = (name: keyof typeof STATEMENTS, values: unknown[]): pg.QueryConfig => ({ name, text: STATEMENTS[name], values });
