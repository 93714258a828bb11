import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type Content,
  type ContentHolder,
  type FileEntry,
  type HolderRecord,
  type ListCursor,
  type ListEntry,
  P2PError,
  quoted,
  type RankedEntry,
  type SearchCursor,
  type SearchQuery,
} from '@p2pservice/protocol';
import { duplicateNameIn, listEntryOf } from './content-rows.js';
import { foundHolders, maxPeerRows, mergeHolderPages } from './holder-files.js';
import { contentsOf, fairHolders } from './holder-rows.js';
import { searchTimeout } from './search-ranking.js';
import { runSearch } from './sqlite-search-run.js';
import { SqliteBans } from './sqlite-bans.js';
import { SqliteMembers } from './sqlite-members.js';
import { SqliteMembership } from './sqlite-membership.js';
import { SearchThreads } from './sqlite-search-threads.js';
import { WalCheckpoints } from './sqlite-checkpoints.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from './sqlite-schema.js';
import { indexTextOf, POPULAR_HOLDERS } from './sqlite-search.js';
import { inSlices } from './sqlite-slices.js';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.js';
import type { FoundHolder, HolderSelector, PeerId, ShareGeneration, StoreCounts, TrackerStore } from './store.js';

export interface SqliteStoreOptions {
  /** The tracker instance whose peers this store writes (default "default": one tracker per file). */
  instance?: string;
  /** The write-ahead log's size past which the checkpoint thread starts it over (default WAL_LIMIT_BYTES). */
  walLimitBytes?: number;
}

/** Rows read per query while a big share is walked (removed, or its previous registration cleared). */
const ROWS_PER_READ = 256;

/**
 * The tracker's state in one SQLite file (WAL), through better-sqlite3. Its calls are synchronous, so
 * every change that grows with a share's size is made in slices of a few milliseconds (sqlite-slices.ts)
 * and never holds the event loop: other connections are served, and the lease renewed, in between.
 */
export class SqliteStore implements TrackerStore {
  private readonly statements: SqliteStatements;
  /** The instances of the network, and this one's lease. */
  readonly membership: SqliteMembership;
  readonly bans: SqliteBans;
  readonly members: SqliteMembers;
  /** The search indexes' rows to add or remove (with the text they were indexed with), in order, for the end of the slice. */
  private readonly indexChanges: IndexChange[] = [];

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
    instance: string,
    private readonly checkpoints: WalCheckpoints | undefined,
    /** Search threads, each with a read-only connection (sqlite-search-threads.ts); none for an in-memory database. */
    private readonly searches: SearchThreads | undefined,
  ) {
    this.statements = prepareStatements(db);
    this.membership = new SqliteMembership(db, this.statements, instance, (peer) => this.removePeer(peer));
    this.bans = new SqliteBans(db);
    this.members = new SqliteMembers(db);
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
    // Checkpoints and searches are other threads' work; an in-memory database has no log and cannot be shared.
    const onDisk = file !== ':memory:';
    const checkpoints = onDisk ? WalCheckpoints.start(file, options.walLimitBytes) : undefined;
    if (checkpoints) db.pragma('wal_autocheckpoint = 0');
    const searches = onDisk ? new SearchThreads(file) : undefined;
    return new SqliteStore(db, file, options.instance ?? 'default', checkpoints, searches);
  }

  async startShare(peer: PeerId | undefined, holder: HolderRecord): Promise<ShareGeneration> {
    const firewalled = holder.firewalled ? 1 : 0;
    if (peer !== undefined) {
      const known = this.statements.peerOf.get(peer);
      if (known && known.firewalled === firewalled) {
        const generation = known.generation + 1;
        this.statements.updatePeer.run(holder.host, holder.port, holder.id, generation, peer);
        return { peer, generation };
      }
      // Every content it holds counts it as firewalled or not: a change is a new peer.
      if (known) await this.removePeer(peer);
    }
    const id = this.statements.insertPeer.get(this.membership.instance, holder.host, holder.port, holder.id, firewalled, Date.now(), 1)!.id;
    return { peer: id, generation: 1 };
  }

  async addShareFiles(peer: PeerId, generation: number, files: readonly FileEntry[]): Promise<void> {
    const firewalled = this.firewalledOf(peer);
    await this.eachInSlices(files, (file) => {
      const old = this.statements.fileOf.get(peer, file.name);
      if (old?.gen === generation) throw new P2PError('DUPLICATE_NAME', `the share names ${quoted(file.name)} twice`);
      this.putFile(peer, generation, firewalled, file, old);
    });
  }

  async finishShare(peer: PeerId, generation: number): Promise<number> {
    const firewalled = this.firewalledOf(peer);
    let after = '';
    await this.inSlices((until) => {
      for (;;) {
        const rows = this.statements.olderFilesAfter.all(peer, after, generation, ROWS_PER_READ);
        if (rows.length === 0) return false;
        for (const row of rows) {
          this.dropFile(peer, firewalled, row);
          after = row.name;
          if (performance.now() >= until) return true;
        }
      }
    });
    return this.statements.countFilesOf.get(peer)!.n;
  }

  async putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId> {
    const duplicate = duplicateNameIn(files);
    if (duplicate) throw duplicate;
    const started = await this.startShare(peer, holder);
    await this.addShareFiles(started.peer, started.generation, files);
    await this.finishShare(started.peer, started.generation);
    return started.peer;
  }

  async countAfterUpdate(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    const { fileOf, countFilesOf } = this.statements;
    const leaving = new Set(removed);
    let count = countFilesOf.get(peer)!.n;
    for (const name of leaving) if (fileOf.get(peer, name)) count--;
    for (const { name } of added) if (leaving.has(name) || !fileOf.get(peer, name)) count++;
    return count;
  }

  async updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    const { firewalled, generation } = this.statements.peerOf.get(peer) ?? { firewalled: 0, generation: 0 };
    await this.eachInSlices(removed, (name) => {
      const old = this.statements.fileOf.get(peer, name);
      if (old) this.dropFile(peer, firewalled, { name, sha256: old.sha256 });
    });
    await this.eachInSlices(added, (file) => this.putFile(peer, generation, firewalled, file, this.statements.fileOf.get(peer, file.name)));
    return this.statements.countFilesOf.get(peer)!.n;
  }

  async removePeer(peer: PeerId, stop?: AbortSignal): Promise<boolean> {
    const firewalled = this.firewalledOf(peer);
    let after = '';
    let removed = false;
    await this.inSlices((until) => {
      if (stop?.aborted) return false;
      for (;;) {
        const rows = this.statements.filesAfter.all(peer, after, ROWS_PER_READ);
        if (rows.length === 0) {
          this.statements.deletePeer.run(peer);
          removed = true;
          return false;
        }
        for (const row of rows) {
          this.dropFile(peer, firewalled, row);
          after = row.name;
          if (performance.now() >= until) return true;
        }
      }
    });
    return removed;
  }

  async search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]> {
    if (this.searches) return this.searches.search(query, after, limit, deadline);
    const outcome = runSearch(this.db, query, after, limit, deadline);
    if ('timedOutAfter' in outcome) throw searchTimeout(outcome.timedOutAfter);
    return outcome.entries;
  }

  async listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    const rows = after ? this.statements.pageAfter.all(after.name, after.sha256, limit) : this.statements.firstPage.all(limit);
    return rows.map(listEntryOf);
  }

  async whoHas(name: string, maxContents: number, maxHolders: number, sha256?: string): Promise<Content[]> {
    const rows = sha256 === undefined ? this.statements.holdersOf.all(name) : this.statements.holdersOfNamed.all(name, sha256);
    return contentsOf(rows, maxContents, maxHolders);
  }

  async whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]> {
    return fairHolders(this.statements.holdersOfContent.all(sha256), maxHolders);
  }

  async findHolders(selector: HolderSelector, maxHolders: number): Promise<FoundHolder[]> {
    const rows = maxPeerRows(maxHolders);
    if ('host' in selector) return foundHolders(this.statements.holderAt.all(selector.host, selector.port, rows)).slice(0, maxHolders);
    if ('identityStart' in selector) return foundHolders(this.statements.holderStarting.all(selector.identityStart, selector.identityStart, rows)).slice(0, maxHolders);
    return foundHolders(this.statements.holderNamed.all(selector.member, rows)).slice(0, maxHolders);
  }

  async holderPage(peers: readonly PeerId[], after: ListCursor | null, limit: number): Promise<ListEntry[]> {
    const pages = peers.map((peer) => this.statements.holderFilesFrom.all(peer, after?.name ?? '', limit + 1).map(listEntryOf));
    return mergeHolderPages(pages, after, limit);
  }

  async counts(): Promise<StoreCounts> {
    return { peers: this.statements.countPeers.get()!.n, files: this.statements.countFiles.get()!.n };
  }

  async countContents(): Promise<number> {
    return this.statements.countContents.get()!.n;
  }

  async close(): Promise<void> {
    await this.searches?.stop();
    await this.checkpoints?.stop();
    // The last connection to close checkpoints what is left and removes the log.
    if (this.db.open) this.db.close();
  }

  private firewalledOf(peer: PeerId): number {
    return this.statements.peerOf.get(peer)?.firewalled ?? 0;
  }

  // A file's row, its content's counts and search entry, and its holding change together, in the
  // caller's transaction: a content exists exactly while some file row names it, so a search never finds
  // a peer that left.

  /** Writes `file` as part of `peer`'s share, replacing its `old` row of the same name, if any. */
  private putFile(peer: PeerId, generation: number, firewalled: number, file: FileEntry, old: { sha256: string } | undefined): void {
    if (!old) {
      this.statements.insertFile.run(peer, file.name, file.size, file.sha256, file.root, generation);
      this.hold(peer, firewalled, file);
      return;
    }
    // The same content under the same name again (a re-registration): only its row is touched.
    const changed = old.sha256 !== file.sha256;
    if (changed) this.release(peer, firewalled, { name: file.name, sha256: old.sha256 });
    this.statements.replaceFile.run(file.size, file.sha256, file.root, generation, peer, file.name);
    if (changed) this.hold(peer, firewalled, file);
  }

  private dropFile(peer: PeerId, firewalled: number, file: { name: string; sha256: string }): void {
    this.release(peer, firewalled, file);
    this.statements.deleteFile.run(peer, file.name);
  }

  private hold(peer: PeerId, firewalled: number, file: FileEntry): void {
    const content = this.statements.holdContent.get(file.name, file.sha256, file.size, firewalled)!;
    if (content.holders === 1) this.indexChanges.push({ index: 'all', add: true, id: content.id, text: indexTextOf(file.name) });
    if (content.holders === POPULAR_HOLDERS) this.indexChanges.push({ index: 'popular', add: true, id: content.id, text: indexTextOf(file.name) });
    this.statements.holdCopy.run(file.sha256, peer, file.root);
  }

  private release(peer: PeerId, firewalled: number, file: { name: string; sha256: string }): void {
    const content = this.statements.releaseContent.get(firewalled, file.name, file.sha256);
    if (content?.holders === POPULAR_HOLDERS - 1) this.indexChanges.push({ index: 'popular', add: false, id: content.id, text: indexTextOf(file.name) });
    if (content && content.holders <= 0) {
      this.statements.deleteContent.run(content.id);
      this.indexChanges.push({ index: 'all', add: false, id: content.id, text: indexTextOf(file.name) });
    }
    const holding = this.statements.releaseCopy.get(file.sha256, peer);
    if (holding && holding.copies <= 0) this.statements.deleteCopy.run(file.sha256, peer);
  }

  /** inSlices, with the search index's changes of each slice written at its end (writeIndexChanges). */
  private inSlices(work: (until: number) => boolean): Promise<void> {
    return inSlices(this.db, (until) => {
      try {
        const more = work(until);
        this.writeIndexChanges();
        return more;
      } catch (error) {
        // The slice is rolled back: so are its index changes.
        this.indexChanges.length = 0;
        throw error;
      }
    }, this.writesMayGo);
  }

  /** Resolves when the WAL's checkpoint thread lets writes go on (WalCheckpoints.writesMayGo). */
  private readonly writesMayGo = async (): Promise<void> => this.checkpoints?.writesMayGo();

  /** Runs `step` on each of `items`, in slices. */
  private eachInSlices<T>(items: readonly T[], step: (item: T) => void): Promise<void> {
    let at = 0;
    return this.inSlices((until) => {
      while (at < items.length) {
        step(items[at++]!);
        if (performance.now() >= until) break;
      }
      return at < items.length;
    });
  }

  /**
   * Writes the search indexes' changes of this slice at its end, one index after the other: FTS5 writes the rows it holds in memory
   * to disk as a new segment whenever another statement opens a savepoint, or a row comes with a smaller
   * rowid than the one before. Interleaved with the other rows' statements, and deletions with
   * insertions, each content made a segment of its own, and merging them held the loop for seconds.
   * Each row's changes in the slice come down to at most the removal of what it held before and the
   * insertion of what it holds now; all removals go first, then all insertions, each by rowid.
   */
  private writeIndexChanges(): void {
    const { indexContent, unindexContent, indexPopular, unindexPopular } = this.statements;
    writeChanges(this.indexChanges, 'all', indexContent, unindexContent);
    writeChanges(this.indexChanges, 'popular', indexPopular, unindexPopular);
    this.indexChanges.length = 0;
  }
}

/** A row to add to or remove from one of the search indexes: all contents, or the popular ones. */
interface IndexChange {
  index: 'all' | 'popular';
  add: boolean;
  id: number;
  text: string;
}

/** The changes of `changes` to `index`, written as SqliteStore.writeIndexChanges says. */
function writeChanges(changes: readonly IndexChange[], index: IndexChange['index'], insert: Database.Statement<[number, string]>, remove: Database.Statement<[number, string]>): void {
  const rows = new Map<number, { removed?: string; added?: string }>();
  for (const change of changes) {
    if (change.index !== index) continue;
    const { add, id, text } = change;
    const row = rows.get(id);
    if (!row) rows.set(id, add ? { added: text } : { removed: text });
    else if (add) row.added = text;
    else if (row.added !== undefined) delete row.added;
    else row.removed = text;
  }
  const ids = [...rows.keys()].sort((a, b) => a - b);
  for (const id of ids) if (rows.get(id)!.removed !== undefined) remove.run(id, rows.get(id)!.removed!);
  for (const id of ids) if (rows.get(id)!.added !== undefined) insert.run(id, rows.get(id)!.added!);
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
    }).immediate();
  }
}
