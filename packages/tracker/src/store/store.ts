import type { Content, ContentHolder, FileEntry, HolderRecord, ListCursor, ListEntry, RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';

/** A peer's id in a store: one per tracker connection that registered a share. */
export type PeerId = number;

export interface StoreCounts {
  peers: number;
  files: number;
}

/**
 * What the tracker keeps: the peers online and the files each shares. The tracker talks only to this
 * interface, so backends are interchangeable (SQLite, PostgreSQL); the contract suite in the tests
 * (`test/store-contract.ts`) is the behaviour every backend must show.
 *
 * Every operation is async, and every change of several rows is one transaction: a reader never sees half
 * a share. Rows belong to the tracker instance that holds the peer's connection, so several instances can
 * share one database without forgetting each other's peers. Each instance holds a lease that it renews;
 * when an instance dies, the others remove its peers once its lease has lapsed.
 *
 * A backend that cannot reach its database throws P2PError UNAVAILABLE, and nothing of that call is kept.
 */
export interface TrackerStore {
  /** Where the data lives, for logs (a file path, or a URL without its password). */
  readonly location: string;
  /** The tracker instance whose peers this store writes. */
  readonly instance: string;

  /**
   * Joins the instances of the network with a lease of `leaseMs`, and forgets what an earlier run of this
   * instance left behind (its peers' connections died with it); other instances' peers stay. Returns how
   * many peers were forgotten. A store may join again under a new instance name (`instance` tells), so
   * that another tracker still sweeping its old name never removes a peer registered since.
   */
  join(leaseMs: number): Promise<number>;

  /**
   * The lease this instance's row holds now, as the database sees it: `until` changes with every renewal,
   * `leftMs` is what remains of it. Undefined when no tracker has joined as this instance, or it left.
   * Read before joining, to tell a tracker that still runs under this name from one that crashed.
   */
  leaseOf(): Promise<{ until: number; leftMs: number } | undefined>;

  /**
   * Extends this instance's lease to `leaseMs` from now. False if the lease had lapsed: the other
   * instances may have removed this one's peers, so it must drop its connections and join again.
   */
  renewLease(leaseMs: number): Promise<boolean>;

  /** Removes every instance whose lease has lapsed, with its peers and their files. Returns the peers removed. */
  sweepLapsed(): Promise<number>;

  /** Leaves the network: this instance's row goes, with whatever peers it still had. */
  leave(): Promise<void>;

  /**
   * Publishes `files` as the share of `holder`, replacing everything `peer` shared before, or creating the
   * peer when `peer` is undefined. All or nothing. Returns the peer's id.
   */
  putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId>;

  /**
   * Applies a delta to a share: `removed` names go, `added` entries join it or replace the entry of the
   * same name. A share that would exceed `maxFiles` is left as it was (TOO_MANY_FILES). Returns its new size.
   */
  updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[], maxFiles: number): Promise<number>;

  /** Deletes the peer and every file it shared. */
  removePeer(peer: PeerId): Promise<void>;

  /** Up to `limit` distinct (name, sha256) rows after `after`, ordered by name then sha256 in UTF-8 byte order. */
  listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]>;

  /**
   * Up to `limit` contents matching `query` after `after`, best first (compareRanked), with their ranks.
   * Throws SEARCH_TIMEOUT when the search is still running at `deadline` (a Date.now() time).
   */
  search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]>;

  /** The contents shared under `name`, each with its holders: at most `maxContents` × `maxHolders`. */
  whoHas(name: string, maxContents: number, maxHolders: number): Promise<Content[]>;

  /** The holders of content `sha256` under any name, at most `maxHolders`. */
  whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]>;

  counts(): Promise<StoreCounts>;

  /**
   * For each content (name and sha256) of `contents`, in order, how many of its holders are firewalled:
   * list and search rows say so. Cheap when no peer is firewalled.
   */
  firewalledHolders(contents: readonly { name: string; sha256: string }[]): Promise<number[]>;
  /** How many distinct contents (name and sha256) the network lists: the rows of `list`. */
  countContents(): Promise<number>;

  close(): Promise<void>;
}
