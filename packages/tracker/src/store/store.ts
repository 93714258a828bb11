import type { Content, ContentHolder, FileEntry, HolderRecord, ListCursor, ListEntry, RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
/** A peer's id in a store: one per tracker connection that registered a share. */
export type PeerId = number;

/** How `holder_files` names a holder: where it serves, the start of its identity, or its member name. */
export type HolderSelector = { host: string; port: number } | { identityStart: string } | { member: string };

/** An online holder a selector named: its identity, its member name if it has one, and its peers (shares). */
export interface FoundHolder {
  identity: string;
  member?: string;
  peers: PeerId[];
}

/** A registration under way: the peer, and the generation its chunks are written under. */
export interface ShareGeneration {
  peer: PeerId;
  generation: number;
}

export interface StoreCounts {
  peers: number;
  files: number;
}

/**
 * The tracker instances of one network: each joins with a lease it renews, and the others remove its
 * peers once it lapses. A backend keeps this part in a file of its own (sqlite-membership.ts,
 * pg-membership.ts), beside the share rows.
 */
export interface InstanceMembership {
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
}

/** A ban: an identity, or a sender (an IPv4 address, or an IPv6 /64, as senderOf writes it). */
export interface Ban {
  target: string;
  /** When it ends (ms since the epoch), or null: for good. */
  until: number | null;
  /** When it was made. */
  at: number;
}

/**
 * The network's bans, kept in its database so that every tracker of the network applies them: the
 * operator's commands write them, and each tracker reads the ones in force every second (ban-watch.ts).
 */
export interface BanList {
  /** Bans `target` until `until` (null: for good), replacing a ban of it already there. */
  ban(target: string, until: number | null, at: number): Promise<void>;
  /** Lifts the ban of `target`; false if there was none. */
  unban(target: string): Promise<boolean>;
  /** The bans in force at `now`, by target; ended ones are not listed (SQLite also removes them then). */
  inForce(now: number): Promise<Ban[]>;
}

/** A member of the network (members.ts): admitted by an invite, or enrolled by proving a network key. */
export interface Member {
  identity: string;
  name: string;
  /** How it came in: `invite ID by WHO`, or `network key`. */
  invitedBy: string;
  joinedAt: number;
  /** When it last connected to, or left, a tracker of the network. */
  lastSeen: number;
  /** When the operator revoked it, or null: a member in good standing. */
  revokedAt: number | null;
}

/** An invite as the store keeps it. The secret stays in the database; the operator saw it once, in the link. */
export interface StoredInvite {
  id: string;
  secret: Buffer;
  /** The name its member gets, or null: named after the identity. */
  name: string | null;
  usesLeft: number;
  /** When it stops working, or null: never. */
  expiresAt: number | null;
  createdAt: number;
  createdBy: string;
}

/** What redeeming an invite came to: the member it made, or why it was refused (nothing changed then). */
export type Redemption = { member: Member } | { refused: 'unknown' | 'used' | 'expired' | 'wrong-proof' | 'revoked' };

/** One line of the network's audit log: who joined, was invited, revoked, banned. */
export interface LogEntry {
  /** Increases with every entry, across the network's trackers and tools. */
  seq: number;
  at: number;
  event: 'join' | 'enrol' | 'invite' | 'uninvite' | 'revoke' | 'ban' | 'unban';
  /** The identity, invite id or ban target it is about. */
  subject: string;
  detail: string;
}

/**
 * The network's members, invites and audit log, kept in its database so that every tracker of the
 * network admits alike, and the operator's commands work on a running network.
 */
export interface MemberList {
  /** The member with this identity, revoked or not, recording that it was seen now; undefined if none. */
  seen(identity: string, now: number): Promise<Member | undefined>;
  /**
   * Redeems invite `id` for `identity` at `now`, in one transaction: the invite must exist, have a use
   * left, not have expired, and `proves(secret)` must hold, and the identity must not be a revoked member.
   * Then a use is spent, the member made and the join logged; a member already is just returned.
   */
  redeem(id: string, identity: string, now: number, proves: (secret: Buffer) => boolean): Promise<Redemption>;
  /** Makes `identity` a member under `name` if it is none yet (a network key proved), logged as `enrol`. Returns the member as it is now. */
  enrol(identity: string, name: string, now: number): Promise<Member>;
  /** Stores a new invite, logged. */
  invite(invite: StoredInvite): Promise<void>;
  /** The invites with a use left that have not expired at `now`, oldest first. */
  invites(now: number): Promise<StoredInvite[]>;
  /** Withdraws invite `id`, logged; false if there was none. */
  uninvite(id: string, now: number, by: string): Promise<boolean>;
  /** Every member, revoked ones too, by name. */
  members(): Promise<Member[]>;
  /** The identities online now (on any tracker of the network), with the files each shares: for the operator's `tracker members`, which may scan every file row. */
  online(): Promise<Map<string, number>>;
  /** How many members are in good standing, and how many were revoked (the status page, /metrics). */
  counts(): Promise<{ members: number; revoked: number }>;
  /** The `limit` members seen most recently, revoked ones too (the status page). */
  recent(limit: number): Promise<Member[]>;
  /** The identities with a share online now, on any tracker of the network: one row per peer, cheap. */
  onlineIdentities(): Promise<Set<string>>;
  /** Revokes `identity` at `now`, logged; false if it is no member or was revoked already. */
  revoke(identity: string, now: number, by: string): Promise<boolean>;
  /** Records that the tracker of identity `identity` signs tickets for this network (at its start, and now and then). */
  addSigner(identity: string, now: number): Promise<void>;
  /** The identities of the trackers that sign tickets, seen since `since`, newest first, at most `limit`. */
  signers(since: number, limit: number): Promise<string[]>;
  /** Adds a line to the audit log (bans are logged by the command that makes them). */
  record(entry: Omit<LogEntry, 'seq'>): Promise<void>;
  /** Log entries after `seq`, oldest first, at most `limit`. */
  log(afterSeq: number, limit: number): Promise<LogEntry[]>;
  /** The newest entry's seq, or 0: where a tracker starts following the log. */
  lastSeq(): Promise<number>;
}

/** The peers online and the files each shares: what lists, searches and who-has read. */
export interface ShareRows {

  /**
   * Begins a registration of `holder`'s share, sent in chunks (spec: register): creates the peer when
   * `peer` is undefined, else moves the peer to `holder` (a new peer id when its firewalled flag changes,
   * since every count of its contents changes with it). Returns the peer and the generation its files
   * are written under from now on.
   */
  startShare(peer: PeerId | undefined, holder: HolderRecord): Promise<ShareGeneration>;

  /**
   * Adds a chunk of the registration begun as `generation`: each file joins the share, or replaces the
   * entry of the same name from the previous registration (unchanged content costs no count or index
   * change). DUPLICATE_NAME if a name was already sent in this registration. Readers see the share grow
   * chunk by chunk; a registration that fails half way is the tracker's to clean up (it removes the peer).
   */
  addShareFiles(peer: PeerId, generation: number, files: readonly FileEntry[]): Promise<void>;

  /** Ends the registration of `generation`: the files of the previous one that it did not send again leave. Returns the share's size. */
  finishShare(peer: PeerId, generation: number): Promise<number>;

  /**
   * The whole share at once: startShare, addShareFiles and finishShare (for tests and tools). DUPLICATE_NAME,
   * changing nothing, when `files` names a file twice.
   */
  putShare(peer: PeerId | undefined, holder: HolderRecord, files: readonly FileEntry[]): Promise<PeerId>;

  /** How many files the share would have after `updateShare(peer, added, removed)`, changing nothing. */
  countAfterUpdate(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number>;

  /**
   * Applies a delta to a share: `removed` names go, `added` entries join it or replace the entry of the
   * same name. The caller checks its limits first (countAfterUpdate). Returns the share's new size.
   */
  updateShare(peer: PeerId, added: readonly FileEntry[], removed: readonly string[]): Promise<number>;

  /**
   * Deletes the peer and every file it shared, and resolves true. Given `stop`, it stops between two
   * slices once `stop` is aborted and resolves false: the peer and the files not deleted yet stay, for
   * the same identity's next registration to take over (startShare with this peer).
   */
  removePeer(peer: PeerId, stop?: AbortSignal): Promise<boolean>;

  /**
   * Up to `limit` distinct (name, sha256) rows after `after`, ordered by name then sha256 in UTF-8 byte
   * order, each with how many of its holders are firewalled when any is.
   */
  listPage(after: ListCursor | null, limit: number): Promise<ListEntry[]>;

  /**
   * Up to `limit` contents matching `query` after `after`, best first (compareRanked), with their ranks
   * (and firewalled holders, as list rows). Throws SEARCH_TIMEOUT when the search is still running at
   * `deadline` (a Date.now() time).
   */
  search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]>;

  /**
   * The contents shared under `name` (only `sha256`, when given), each with its holders: at most
   * `maxContents` × `maxHolders`, chosen fairly (holder-rows.ts): in turns across senders, so that one
   * sender's many rows cannot hide another's.
   */
  whoHas(name: string, maxContents: number, maxHolders: number, sha256?: string): Promise<Content[]>;

  /** The holders of content `sha256` under any name, at most `maxHolders`, chosen fairly across senders. */
  whoHasContent(sha256: string, maxHolders: number): Promise<ContentHolder[]>;

  /**
   * The online holders `selector` names, grouped by identity, at most `maxHolders` of them (a selector
   * naming more is ambiguous to its caller anyway).
   */
  findHolders(selector: HolderSelector, maxHolders: number): Promise<FoundHolder[]>;

  /**
   * Up to `limit` of the files of `peers` (one holder's) after `after`, in list order, each as its
   * content's list row (with every holder of it counted), each content once.
   */
  holderPage(peers: readonly PeerId[], after: ListCursor | null, limit: number): Promise<ListEntry[]>;

  counts(): Promise<StoreCounts>;

  /** How many distinct contents (name and sha256) the network lists: the rows of `list`. */
  countContents(): Promise<number>;
}

/**
 * What the tracker keeps: the peers online and the files each shares. The tracker talks only to this
 * interface, so backends are interchangeable (SQLite, PostgreSQL); the contract suite in the tests
 * (`test/store-contract.ts`) is the behaviour every backend must show.
 *
 * Every operation is async and never holds the event loop for long, whatever its size: a big change is
 * made in short transactions, so a reader may see a share grow or shrink while a big registration or
 * departure is applied, but never a file half-applied (its row, its content's counts and its search
 * entry change together). Rows belong to the tracker instance that holds the peer's connection, so
 * several instances can share one database without forgetting each other's peers. Each instance holds a
 * lease that it renews; when an instance dies, the others remove its peers once its lease has lapsed.
 *
 * A backend that cannot reach its database throws P2PError UNAVAILABLE. A change of a share that fails
 * half way is not undone by the store: the tracker ends that peer's connection, and its rows go with it.
 */
export interface TrackerStore extends ShareRows {
  /** Where the data lives, for logs (a file path, or a URL without its password). */
  readonly location: string;
  /** The instances of the network, and this one's lease. */
  readonly membership: InstanceMembership;
  /** Who is banned from the network. */
  readonly bans: BanList;
  /** Who the network's members are, its invites, and its audit log. */
  readonly members: MemberList;
  close(): Promise<void>;
}
