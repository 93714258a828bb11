import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { Content, ContentHolder, FileEntry, HolderRecord, ListCursor, ListEntry, RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { P2PError } from '@p2pservice/protocol';
import { contentHolderOf, contentsOf, type HolderFields, type HolderRow } from './holder-rows.js';
import { inTransaction, isUnavailable, openPool, type PgPoolOptions, query, redactedUrl } from './pg-database.js';
import { migratePg } from './pg-schema.js';
import { searchStatementOf, searchTextOf } from './pg-search.js';
import { SearchRanking } from './search-ranking.js';
import type { PeerId, StoreCounts, TrackerStore } from './store.js';

export interface PgStoreOptions extends Partial<PgPoolOptions> {
  /** The tracker instance whose peers this store writes (default: a new one per process). */
  instance?: string;
  /** Told when an idle pooled connection fails (the pool drops it and carries on). */
  onIdleError?: (error: Error) => void;
}

export const DEFAULT_PG_POOL: PgPoolOptions = { poolSize: 10, connectTimeoutMs: 5_000, statementTimeoutMs: 15_000 };

/**
 * Peers removed per transaction when a whole instance goes (a sweep, a join, a leave): an instance of
 * thousands of peers goes in short transactions, each far from the statement timeout, none holding
 * locks for long.
 */
const PEERS_PER_BATCH = 25;

const newInstanceName = () => `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;

/** Search candidates fetched per round trip. */
const SEARCH_BATCH = 1_000;
/** A size no real file has: a holder count going down never lowers a content's size. */
const NO_SIZE = Number.MAX_SAFE_INTEGER;

/** A change of one content's holder count. */
interface HolderChange {
  name: string;
  sha256: string;
  size: number;
  by: number;
}

const changeKey = (name: string, sha256: string) => `${sha256}\u0000${name}`;

/** The holder counts a set of file changes moves, one entry per content. */
class HolderChanges {
  private readonly changes = new Map<string, HolderChange>();

  add(file: { name: string; sha256: string; size?: number }, by: number): void {
    const key = changeKey(file.name, file.sha256);
    const change = this.changes.get(key);
    if (change) {
      change.by += by;
      if (file.size !== undefined) change.size = Math.min(change.size, file.size);
    } else {
      this.changes.set(key, { name: file.name, sha256: file.sha256, size: file.size ?? NO_SIZE, by });
    }
  }

  /** The changes that move a count, in one order for every transaction (so row locks never deadlock). */
  list(): HolderChange[] {
    return [...this.changes.values()].filter((c) => c.by !== 0);
  }
}

const STATEMENTS = {
  // Rows are upserted in (name, sha256) order: two transactions lock the contents they share in the same
  // order, and never wait for each other in a circle.
  changeHolders: `INSERT INTO contents AS c (name, sha256, size, holders, search_text)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::text[]) AS u(name, sha256, size, holders, search_text)
    ORDER BY u.name COLLATE "C", u.sha256 COLLATE "C"
    ON CONFLICT (name, sha256) DO UPDATE SET holders = c.holders + excluded.holders, size = LEAST(c.size, excluded.size)`,
  dropUnheld: `DELETE FROM contents c USING unnest($1::text[], $2::text[]) AS g(name, sha256)
    WHERE c.name = g.name AND c.sha256 = g.sha256 AND c.holders <= 0`,
  nextPeerId: `SELECT nextval(pg_get_serial_sequence('peers', 'id')) AS id`,
  insertPeer: 'INSERT INTO peers (id, instance, host, port, identity, firewalled) VALUES ($1, $2, $3, $4, $5, $6)',
  updatePeer: 'UPDATE peers SET host = $2, port = $3, identity = $4, firewalled = $5 WHERE id = $1',
  deletePeer: 'DELETE FROM peers WHERE id = $1',
  insertFiles: `INSERT INTO files (peer_id, name, size, sha256, root)
    SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])`,
  deleteFilesOf: 'DELETE FROM files WHERE peer_id = $1 RETURNING name, sha256',
  deleteNamedFilesOf: 'DELETE FROM files WHERE peer_id = $1 AND name = ANY($2::text[]) RETURNING name, sha256',
  countFilesOf: 'SELECT count(*) AS n FROM files WHERE peer_id = $1',
  // Two trackers sweeping one instance at once each take peers the other has not locked.
  somePeersOf: 'SELECT id FROM peers WHERE instance = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED',
  deleteFilesOfPeers: 'DELETE FROM files WHERE peer_id = ANY($1::bigint[]) RETURNING name, sha256',
  deletePeers: 'DELETE FROM peers WHERE id = ANY($1::bigint[])',
  joinInstance: `INSERT INTO instances (id, lease_until) VALUES ($1, now() + $2 * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET started_at = now(), lease_until = excluded.lease_until`,
  leaseOf: `SELECT (extract(epoch FROM lease_until) * 1000)::float8 AS until,
    greatest(0, extract(epoch FROM lease_until - now()) * 1000)::float8 AS left_ms FROM instances WHERE id = $1`,
  renewInstance: `UPDATE instances SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1 AND lease_until > now()`,
  lapsedInstances: 'SELECT id FROM instances WHERE lease_until <= now() AND id <> $1 ORDER BY id',
  deleteSweptInstance: `DELETE FROM instances i WHERE id = $1 AND lease_until <= now() AND NOT EXISTS (SELECT 1 FROM peers WHERE instance = i.id)`,
  deleteInstance: 'DELETE FROM instances WHERE id = $1',
  firstPage: 'SELECT name, sha256, size, holders FROM contents ORDER BY name, sha256 LIMIT $1',
  pageAfter: 'SELECT name, sha256, size, holders FROM contents WHERE (name, sha256) > ($1, $2) ORDER BY name, sha256 LIMIT $3',
  holdersOf: `SELECT f.sha256, f.size, p.host, p.port, p.identity AS id, f.root, p.firewalled
    FROM contents c JOIN files f ON f.sha256 = c.sha256 AND f.name = c.name JOIN peers p ON p.id = f.peer_id
    WHERE c.name = $1 ORDER BY f.sha256, p.id`,
  // A peer sharing the content under several names is one holder.
  holdersOfContent: `SELECT DISTINCT ON (p.id) p.host, p.port, p.identity AS id, f.root, p.firewalled
    FROM files f JOIN peers p ON p.id = f.peer_id WHERE f.sha256 = $1 ORDER BY p.id, f.root LIMIT $2`,
  counts: 'SELECT (SELECT count(*) FROM peers) AS peers, (SELECT count(*) FROM files) AS files',
  anyFirewalled: 'SELECT id FROM peers WHERE firewalled LIMIT 1',
  firewalledHoldersOf: `SELECT c.i::int AS i, count(*)::int AS n
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(name, sha256, i)
    JOIN files f ON f.sha256 = c.sha256 AND f.name = c.name JOIN peers p ON p.id = f.peer_id AND p.firewalled
    GROUP BY c.i`,
  countContents: 'SELECT count(*)::int AS n FROM contents',
} as const;

/** A prepared statement: parsed once per pooled connection, then only bound and run. */
const prepared = (name: keyof typeof STATEMENTS, values: unknown[]): pg.QueryConfig => ({ name, text: STATEMENTS[name], values });

/**
 * The tracker's state in PostgreSQL, shared by every tracker instance of one network: each writes the
 * rows of the peers connected to it, and all of them read everything. See store.ts for the contract.
 */
export class PgStore implements TrackerStore {
  /** Peers whose rows may exist though their removal (or registration) failed: removed when the database is back. */
  private readonly orphans = new Set<PeerId>();

  private joined = false;

  private constructor(
    private readonly pool: pg.Pool,
    /**
     * A connection of its own for the lease: renewals never wait behind requests for a connection, so
     * a tracker busy serving (a crowd of peers registering at once) is not mistaken for one cut off.
     */
    private readonly leasePool: pg.Pool,
    readonly location: string,
    private instanceName: string,
  ) {}

  get instance(): string {
    return this.instanceName;
  }

  /** Connects to the database at `url` (a postgres:// URL) and brings its schema up to date. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const location = redactedUrl(url);
    const onIdleError = options.onIdleError ?? (() => undefined);
    const pool = openPool(url, { ...DEFAULT_PG_POOL, ...options }, onIdleError);
    const leasePool = openPool(url, { ...DEFAULT_PG_POOL, ...options, poolSize: 1 }, onIdleError);
    try {
      const client = await pool.connect();
      try {
        await migratePg(client, location);
      } finally {
        client.release();
      }
    } catch (error) {
      await Promise.all([pool.end(), leasePool.end()]);
      if (error instanceof P2PError) throw error;
      if (isUnavailable(error)) {
        throw new P2PError('UNAVAILABLE', `cannot reach database ${location}: ${(error as Error).message}`, 'check TRACKER_DB, and that the PostgreSQL server runs and takes connections from here', { cause: error });
      }
      throw new P2PError('BAD_CONFIG', `cannot use database ${location}: ${(error as Error).message}`, 'check TRACKER_DB: its user, password and database, and that the user may create tables and the pg_trgm extension', { cause: error });
    }
    return new PgStore(pool, leasePool, location, options.instance ?? newInstanceName());
  }

  /**
   * Joins with a lease, then forgets what an earlier run of this instance left, a batch at a time (the
   * lease renewed after each). Joining again (after the lease was lost) is joining as a new instance:
   * others may be sweeping the old one, and must never sweep a peer registered after the return.
   */
  async join(leaseMs: number): Promise<number> {
    if (this.joined) this.instanceName = newInstanceName();
    await query(this.leasePool, this.location, prepared('joinInstance', [this.instance, leaseMs]));
    this.joined = true;
    this.orphans.clear();
    return this.forgetPeersOf(this.instance, () => this.renewLease(leaseMs));
  }

  async leaseOf(): Promise<{ until: number; leftMs: number } | undefined> {
    const row = (await query<{ until: number; left_ms: number }>(this.leasePool, this.location, prepared('leaseOf', [this.instance]))).rows[0];
    return row && { until: row.until, leftMs: row.left_ms };
  }

  async renewLease(leaseMs: number): Promise<boolean> {
    return (await query(this.leasePool, this.location, prepared('renewInstance', [this.instance, leaseMs]))).rowCount === 1;
  }

  async sweepLapsed(): Promise<number> {
    for (const peer of [...this.orphans]) await this.removePeer(peer);
    let removed = 0;
    for (const { id } of (await query<{ id: string }>(this.pool, this.location, prepared('lapsedInstances', [this.instance]))).rows) {
      removed += await this.forgetPeersOf(id);
      // Gone once no peer of it is left (another tracker may still be removing a batch).
      await query(this.pool, this.location, prepared('deleteSweptInstance', [id]));
    }
    return removed;
  }

  async leave(): Promise<void> {
    await this.forgetPeersOf(this.instance);
    await query(this.pool, this.location, prepared('deleteInstance', [this.instance]));
    this.orphans.clear();
  }

  async putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId> {
    // A new peer's id is drawn first: if the commit's answer is lost, the rows it may have left are known.
    const id = peer ?? (await query<{ id: number }>(this.pool, this.location, prepared('nextPeerId', []))).rows[0]!.id;
    try {
      return await this.transaction(async (client) => {
        const changes = new HolderChanges();
        if (peer === undefined) {
          await client.query(prepared('insertPeer', [id, this.instance, holder.host, holder.port, holder.id, holder.firewalled === true]));
        } else {
          await client.query(prepared('updatePeer', [id, holder.host, holder.port, holder.id, holder.firewalled === true]));
          for (const old of (await client.query(prepared('deleteFilesOf', [id]))).rows) changes.add(old, -1);
        }
        await this.insertFiles(client, id, files, changes);
        await this.changeHolders(client, changes);
        return id;
      });
    } catch (error) {
      if (peer === undefined) this.orphans.add(id);
      throw error;
    }
  }

  async updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[], maxFiles: number): Promise<number> {
    return this.transaction(async (client) => {
      const changes = new HolderChanges();
      const names = [...removed, ...added.map((f) => f.name)];
      for (const old of (await client.query(prepared('deleteNamedFilesOf', [peer, names]))).rows) changes.add(old, -1);
      await this.insertFiles(client, peer, added, changes);
      const files = (await client.query<{ n: number }>(prepared('countFilesOf', [peer]))).rows[0]!.n;
      if (files > maxFiles) throw new P2PError('TOO_MANY_FILES', `a share of more than ${maxFiles} files is over the limit`);
      await this.changeHolders(client, changes);
      return files;
    });
  }

  async removePeer(peer: PeerId): Promise<void> {
    try {
      await this.transaction(async (client) => {
        const changes = new HolderChanges();
        for (const old of (await client.query(prepared('deleteFilesOf', [peer]))).rows) changes.add(old, -1);
        await this.changeHolders(client, changes);
        await client.query(prepared('deletePeer', [peer]));
      });
      this.orphans.delete(peer);
    } catch (error) {
      // Tried again by the next sweep: a peer that left during an outage must not stay listed.
      this.orphans.add(peer);
      throw error;
    }
  }

  async listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    const config = after ? prepared('pageAfter', [after.name, after.sha256, limit]) : prepared('firstPage', [limit]);
    return (await query<ListEntry>(this.pool, this.location, config)).rows;
  }

  async search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]> {
    const ranking = new SearchRanking(query, after, limit, deadline);
    const statement = searchStatementOf(query);
    const budget = Math.max(1, Math.ceil(deadline - Date.now()));
    try {
      await this.transaction(async (client) => {
        // The server stops the statement at the deadline too (the sort of a broad search is one step).
        await client.query(`SET LOCAL statement_timeout = ${budget}`);
        const cursor = client.query(new Cursor<[string, string, number, number]>(statement.text, statement.values, { rowMode: 'array' }));
        try {
          // Candidates come most holders first: the first that cannot make the page ends the search.
          reading: for (;;) {
            const rows = await cursor.read(SEARCH_BATCH);
            ranking.checkClock();
            for (const [name, sha256, size, holders] of rows) if (!ranking.offer(name, sha256, Number(size), holders)) break reading;
            if (rows.length < SEARCH_BATCH) break;
          }
        } finally {
          await cursor.close();
        }
      });
    } catch (error) {
      const cause = error instanceof P2PError ? error.cause : error;
      if ((cause as { code?: string } | undefined)?.code === '57014') throw ranking.timeout();
      throw error;
    }
    return ranking.entries;
  }

  async whoHas(name: string, maxContents: number, maxHolders: number): Promise<Content[]> {
    return contentsOf((await query<HolderRow>(this.pool, this.location, prepared('holdersOf', [name]))).rows, maxContents, maxHolders);
  }

  async firewalledHolders(contents: readonly { name: string; sha256: string }[]): Promise<number[]> {
    const counts = contents.map(() => 0);
    if (contents.length === 0 || (await query(this.pool, this.location, prepared('anyFirewalled', []))).rows.length === 0) return counts;
    const names = contents.map((c) => c.name);
    const sha256s = contents.map((c) => c.sha256);
    for (const { i, n } of (await query<{ i: number; n: number }>(this.pool, this.location, prepared('firewalledHoldersOf', [names, sha256s]))).rows) counts[i - 1] = n;
    return counts;
  }

  async whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]> {
    return (await query<HolderFields>(this.pool, this.location, prepared('holdersOfContent', [sha256, maxHolders]))).rows.map(contentHolderOf);
  }

  async countContents(): Promise<number> {
    return (await query<{ n: number }>(this.pool, this.location, prepared('countContents', []))).rows[0]!.n;
  }

  async counts(): Promise<StoreCounts> {
    return (await query<StoreCounts>(this.pool, this.location, prepared('counts', []))).rows[0]!;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end().catch(() => undefined), this.leasePool.end().catch(() => undefined)]);
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, this.location, work);
  }

  private async insertFiles(client: pg.PoolClient, peer: PeerId, files: readonly FileEntry[], changes: HolderChanges): Promise<void> {
    if (files.length === 0) return;
    await client.query(prepared('insertFiles', [peer, files.map((f) => f.name), files.map((f) => f.size), files.map((f) => f.sha256), files.map((f) => f.root)]));
    for (const file of files) changes.add(file, +1);
  }

  /**
   * Deletes every peer of `instance` with its files, PEERS_PER_BATCH peers per transaction, calling
   * `between` after each batch; returns how many peers.
   */
  private async forgetPeersOf(instance: string, between?: () => Promise<unknown>): Promise<number> {
    let forgotten = 0;
    for (;;) {
      const removed = await this.transaction(async (client) => {
        const peers = (await client.query<{ id: number }>(prepared('somePeersOf', [instance, PEERS_PER_BATCH]))).rows.map((row) => row.id);
        if (peers.length === 0) return 0;
        const changes = new HolderChanges();
        for (const old of (await client.query(prepared('deleteFilesOfPeers', [peers]))).rows) changes.add(old, -1);
        await this.changeHolders(client, changes);
        await client.query(prepared('deletePeers', [peers]));
        return peers.length;
      });
      if (removed === 0) return forgotten;
      forgotten += removed;
      await between?.();
    }
  }

  // Content rows follow the file rows in the caller's transaction: a content exists exactly while some
  // file row names it, so a search or a list never shows a peer that left.
  private async changeHolders(client: pg.PoolClient, changes: HolderChanges): Promise<void> {
    const list = changes.list();
    if (list.length === 0) return;
    // Only a content that may be new needs its search text (a lowered count never inserts a row).
    const texts = list.map((c) => (c.by > 0 ? searchTextOf(c.name) : ''));
    await client.query(prepared('changeHolders', [list.map((c) => c.name), list.map((c) => c.sha256), list.map((c) => c.size), list.map((c) => c.by), texts]));
    const lower = list.filter((c) => c.by < 0);
    if (lower.length > 0) await client.query(prepared('dropUnheld', [lower.map((c) => c.name), lower.map((c) => c.sha256)]));
  }
}
