import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { Content, ContentHolder, FileEntry, HolderRecord, ListCursor, ListEntry, RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { P2PError, quoted } from '@p2pservice/protocol';
import { type ContentRow, duplicateNameIn, listEntryOf } from './content-rows.js';
import { foundHolders, type HolderPeerRow, maxPeerRows, mergeHolderPages } from './holder-files.js';
import { contentsOf, fairHolders, type HolderFields, type HolderRow } from './holder-rows.js';
import { DEFAULT_PG_POOL } from '../settings/defaults.js';
import { HolderChanges } from './pg-changes.js';
import { inTransaction, isUnavailable, openPool, type PgPoolOptions, query, redactedUrl } from './pg-database.js';
import { PgBans } from './pg-bans.js';
import { PgMembers } from './pg-members.js';
import { newInstanceName, PgMembership } from './pg-membership.js';
import { migratePg } from './pg-schema.js';
import { searchStatementOf } from './pg-search.js';
import { prepared } from './pg-statements.js';
import { SearchRanking } from './search-ranking.js';
import type { FoundHolder, HolderSelector, PeerId, ShareGeneration, StoreCounts, TrackerStore } from './store.js';
import { TRACKER_SETTINGS } from '../settings/table.js';

export interface PgStoreOptions extends Partial<PgPoolOptions> {
  /** The tracker instance whose peers this store writes (default: a new one per process). */
  instance?: string;
  /** Told when an idle pooled connection fails (the pool drops it and carries on). */
  onIdleError?: (error: Error) => void;
}


/**
 * File rows removed per transaction (a departure, a registration's leftovers): each transaction, and the
 * work this process does for it, stays small however big the share.
 */
const FILES_PER_BATCH = 2_000;

/** Search candidates fetched per round trip. */
const SEARCH_BATCH = 1_000;

/**
 * The tracker's state in PostgreSQL, shared by every tracker instance of one network: each writes the
 * rows of the peers connected to it, and all of them read everything. See store.ts for the contract.
 */
export class PgStore implements TrackerStore {
  /** Peers whose rows may exist though their removal (or registration) failed: removed when the database is back. */
  private readonly orphans = new Set<PeerId>();

  /** The instances of the network, and this one's lease. */
  readonly membership: PgMembership;
  readonly bans: PgBans;
  readonly members: PgMembers;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly leasePool: pg.Pool,
    readonly location: string,
    instance: string,
  ) {
    this.bans = new PgBans(pool, location);
    this.members = new PgMembers(pool, location);
    this.membership = new PgMembership(pool, leasePool, location, instance, {
      removePeer: (peer) => this.removePeer(peer),
      retryFailedRemovals: async () => {
        for (const peer of [...this.orphans]) await this.removePeer(peer);
      },
      forgetFailedRemovals: () => this.orphans.clear(),
    });
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
        throw new P2PError('UNAVAILABLE', `cannot reach database ${location}: ${(error as Error).message}`, `check ${TRACKER_SETTINGS.db.env}, and that the PostgreSQL server runs and takes connections from here`, { cause: error });
      }
      throw new P2PError('BAD_CONFIG', `cannot use database ${location}: ${(error as Error).message}`, `check ${TRACKER_SETTINGS.db.env}: its user, password and database, and that the user may create tables and the pg_trgm extension`, { cause: error });
    }
    return new PgStore(pool, leasePool, location, options.instance ?? newInstanceName());
  }

  async startShare(peer: PeerId | undefined, holder: HolderRecord): Promise<ShareGeneration> {
    if (peer !== undefined) {
      const known = (await query<{ firewalled: boolean; generation: number }>(this.pool, this.location, prepared('peerOf', [peer]))).rows[0];
      if (known && known.firewalled === (holder.firewalled === true)) {
        const moved = await query<{ generation: number }>(this.pool, this.location, prepared('movePeer', [peer, holder.host, holder.port, holder.id]));
        return { peer, generation: moved.rows[0]!.generation };
      }
      // Every content it holds counts it as firewalled or not: a change is a new peer.
      if (known) await this.removePeer(peer);
    }
    // The id is drawn first: if the commit's answer is lost, the rows it may have left are known.
    const id = (await query<{ id: number }>(this.pool, this.location, prepared('nextPeerId', []))).rows[0]!.id;
    try {
      await query(this.pool, this.location, prepared('insertPeer', [id, this.membership.instance, holder.host, holder.port, holder.id, holder.firewalled === true]));
    } catch (error) {
      this.orphans.add(id);
      throw error;
    }
    return { peer: id, generation: 1 };
  }

  async addShareFiles(peer: PeerId, generation: number, files: readonly FileEntry[]): Promise<void> {
    if (files.length === 0) return;
    await this.transaction(async (client) => {
      const { firewalled } = await this.peerOf(client, peer);
      const old = new Map((await client.query<{ name: string; sha256: string; gen: number }>(prepared('namedFilesOf', [peer, files.map((f) => f.name)]))).rows.map((row) => [row.name, row]));
      const changes = new HolderChanges();
      for (const file of files) {
        const before = old.get(file.name);
        if (before?.gen === generation) throw new P2PError('DUPLICATE_NAME', `the share names ${quoted(file.name)} twice`);
        // The same content under the same name again (a re-registration): only its row is touched.
        if (before?.sha256 === file.sha256) continue;
        if (before) changes.add(peer, firewalled, before, -1);
        changes.add(peer, firewalled, file, +1);
      }
      await this.upsertFiles(client, peer, generation, files);
      await changes.apply(client);
    });
  }

  async finishShare(peer: PeerId, generation: number): Promise<number> {
    await this.deleteFilesOf(peer, (client) => client.query<{ name: string; sha256: string }>(prepared('deleteSomeOlderFilesOf', [peer, generation, FILES_PER_BATCH])));
    return (await query<{ n: number }>(this.pool, this.location, prepared('countFilesOf', [peer]))).rows[0]!.n;
  }

  async putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId> {
    const duplicate = duplicateNameIn(files);
    if (duplicate) throw duplicate;
    const started = await this.startShare(peer, holder);
    for (let at = 0; at < files.length; at += FILES_PER_BATCH) await this.addShareFiles(started.peer, started.generation, files.slice(at, at + FILES_PER_BATCH));
    await this.finishShare(started.peer, started.generation);
    return started.peer;
  }

  async countAfterUpdate(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    const leaving = new Set(removed);
    const names = [...leaving, ...added.map((f) => f.name)];
    const present = new Set((await query<{ name: string }>(this.pool, this.location, { text: 'SELECT name FROM files WHERE peer_id = $1 AND name = ANY($2::text[])', values: [peer, names] })).rows.map((row) => row.name));
    let count = (await query<{ n: number }>(this.pool, this.location, prepared('countFilesOf', [peer]))).rows[0]!.n;
    for (const name of leaving) if (present.has(name)) count--;
    for (const { name } of added) if (leaving.has(name) || !present.has(name)) count++;
    return count;
  }

  async updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    return this.transaction(async (client) => {
      const { firewalled, generation } = await this.peerOf(client, peer);
      const changes = new HolderChanges();
      const names = [...removed, ...added.map((f) => f.name)];
      for (const old of (await client.query<{ name: string; sha256: string }>(prepared('deleteNamedFilesOf', [peer, names]))).rows) changes.add(peer, firewalled, old, -1);
      for (const file of added) changes.add(peer, firewalled, file, +1);
      await this.upsertFiles(client, peer, generation, added);
      await changes.apply(client);
      return (await client.query<{ n: number }>(prepared('countFilesOf', [peer]))).rows[0]!.n;
    });
  }

  async removePeer(peer: PeerId, stop?: AbortSignal): Promise<boolean> {
    try {
      const all = await this.deleteFilesOf(peer, (client) => client.query<{ name: string; sha256: string }>(prepared('deleteSomeFilesOf', [peer, FILES_PER_BATCH])), stop);
      if (!all) return false;
      await query(this.pool, this.location, prepared('deletePeer', [peer]));
      this.orphans.delete(peer);
      return true;
    } catch (error) {
      // Tried again by the next sweep: a peer that left during an outage must not stay listed.
      this.orphans.add(peer);
      throw error;
    }
  }

  async listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    const config = after ? prepared('pageAfter', [after.name, after.sha256, limit]) : prepared('firstPage', [limit]);
    return (await query<ContentRow>(this.pool, this.location, config)).rows.map(listEntryOf);
  }

  async findHolders(selector: HolderSelector, maxHolders: number): Promise<FoundHolder[]> {
    const rows = maxPeerRows(maxHolders);
    const config =
      'host' in selector ? prepared('holderAt', [selector.host, selector.port, rows])
      : 'identityStart' in selector ? prepared('holderStarting', [selector.identityStart, rows])
      : prepared('holderNamed', [selector.member, rows]);
    return foundHolders((await query<HolderPeerRow>(this.pool, this.location, config)).rows).slice(0, maxHolders);
  }

  async holderPage(peers: readonly PeerId[], after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    const pages = await Promise.all(
      peers.map(async (peer) => (await query<ContentRow>(this.pool, this.location, prepared('holderFilesFrom', [peer, after?.name ?? '', limit + 1]))).rows.map(listEntryOf)),
    );
    return mergeHolderPages(pages, after, limit);
  }

  async search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]> {
    const ranking = new SearchRanking(query, after, limit, deadline);
    const statement = searchStatementOf(query);
    const budget = Math.max(1, Math.ceil(deadline - Date.now()));
    try {
      await this.transaction(async (client) => {
        // The server stops the statement at the deadline too (the sort of a broad search is one step).
        await client.query(`SET LOCAL statement_timeout = ${budget}`);
        const cursor = client.query(new Cursor<[string, string, number, number, number]>(statement.text, statement.values, { rowMode: 'array' }));
        try {
          // Candidates come most holders first: the first that cannot make the page ends the search.
          reading: for (;;) {
            const rows = await cursor.read(SEARCH_BATCH);
            ranking.checkClock();
            for (const [name, sha256, size, holders, firewalled] of rows) if (!ranking.offer(name, sha256, Number(size), holders, firewalled)) break reading;
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

  async whoHas(name: string, maxContents: number, maxHolders: number, sha256?: string): Promise<Content[]> {
    const statement = sha256 === undefined ? prepared('holdersOf', [name]) : prepared('holdersOfNamed', [sha256, name]);
    return contentsOf((await query<HolderRow>(this.pool, this.location, statement)).rows, maxContents, maxHolders);
  }

  async whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]> {
    return fairHolders((await query<HolderFields>(this.pool, this.location, prepared('holdersOfContent', [sha256]))).rows, maxHolders);
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

  private async peerOf(client: pg.PoolClient, peer: PeerId): Promise<{ firewalled: boolean; generation: number }> {
    return (await client.query<{ firewalled: boolean; generation: number }>(prepared('peerOf', [peer]))).rows[0] ?? { firewalled: false, generation: 0 };
  }

  private async upsertFiles(client: pg.PoolClient, peer: PeerId, generation: number, files: readonly FileEntry[]): Promise<void> {
    if (files.length === 0) return;
    await client.query(prepared('upsertFiles', [peer, files.map((f) => f.name), files.map((f) => f.size), files.map((f) => f.sha256), files.map((f) => f.root), generation]));
  }

  /** Deletes `peer`'s files that `batch` deletes, a batch per transaction with its count changes, until none is left. */
  /** Deletes `peer`'s files a batch at a time; false if `stop` was aborted before they were all gone. */
  private async deleteFilesOf(peer: PeerId, batch: (client: pg.PoolClient) => Promise<pg.QueryResult<{ name: string; sha256: string }>>, stop?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (stop?.aborted) return false;
      const deleted = await this.transaction(async (client) => {
        const { firewalled } = await this.peerOf(client, peer);
        const rows = (await batch(client)).rows;
        const changes = new HolderChanges();
        for (const row of rows) changes.add(peer, firewalled, row, -1);
        await changes.apply(client);
        return rows.length;
      });
      // Only none left ends it: another tracker removing the same peer may have taken part of a batch.
      if (deleted === 0) return true;
    }
  }
}
