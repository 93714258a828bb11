import { HANDSHAKE_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, MAX_FILES_PER_SHARE, MAX_FRAME_BYTES, PEER_TIMEOUT_MS, WRITE_TIMEOUT_MS } from '@p2pservice/protocol';

/*
 * Every built-in default of the tracker, in one place: the library's options fall back to these, and the
 * settings table (table.ts) shows them as the defaults of the environment.
 */

/** Where a tracker listens and keeps its state, unless told otherwise. */
export const DEFAULT_TRACKER_HOST = '0.0.0.0';
export const DEFAULT_TRACKER_PORT = 7070;
export const DEFAULT_TRACKER_DB = 'tracker.db';
/** The status page stays on this machine unless told otherwise: it shows peers' addresses. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

/** A PostgreSQL store's pool: its size, and how long a connection and a statement may take. */
export const DEFAULT_PG_POOL = { poolSize: 10, connectTimeoutMs: 5_000, statementTimeoutMs: 15_000 };

/** The tracker's limits; each can be overridden through options (and the CLI's environment). */
export interface TrackerLimits {
  /** Largest frame accepted from a peer. */
  maxFrameBytes: number;
  /**
   * Largest reply: a list page or holder list that grows with the data is cut to fit it. The default is
   * the protocol's MAX_FRAME_BYTES, which every client accepts (never more than `maxFrameBytes`).
   */
  replyFrameBytes: number;
  /** Most files one peer may share. */
  maxFilesPerShare: number;
  /** Most files listed from one sender (an address, or an IPv6 /64), over all its connections. */
  maxFilesPerAddress: number;
  /** Most files listed under one identity, over all its connections (a peer sharing several folders). */
  maxFilesPerIdentity: number;
  /** Searches one sender runs at once; more wait in line for a turn (each connection asks one at a time). */
  maxSearchesPerAddress: number;
  /** Most simultaneous connections; the next one gets TOO_MANY_CONNECTIONS and is closed. */
  maxConnections: number;
  /** Most simultaneous connections from one remote address. */
  maxConnectionsPerAddress: number;
  /** Connect back to a registering peer's listen port before listing its files. */
  verifyReachable: boolean;
  /** How long that check may take. */
  reachTimeoutMs: number;
  /** A client that reads none of its answers for this long is disconnected. */
  writeTimeoutMs: number;
  /** How long a new connection may take to say hello. */
  handshakeTimeoutMs: number;
  /** How often peers are asked (in the welcome) to show they are alive. */
  heartbeatMs: number;
  /** A connection silent for this long is dropped, and its share with it. */
  peerTimeoutMs: number;
  /** Longest one search may run; a slower one is stopped with SEARCH_TIMEOUT so others are served. */
  searchBudgetMs: number;
  /**
   * The lease of this tracker instance on the database, renewed every third of it. Peers of an instance
   * that stopped renewing are removed by the others once it lapses; an instance that could not renew in
   * time drops its connections rather than serve a list it no longer owns.
   */
  leaseMs: number;
  /** Most connect requests one connection may make per `connectRequestWindowMs`; more get RATE_LIMITED. */
  maxConnectRequests: number;
  /** Most connect requests from one address (all its connections together) per window. */
  maxConnectRequestsPerAddress: number;
  connectRequestWindowMs: number;
  /** How often the bans in force are read from the network's database (a ban reaches every tracker within about that). */
  banRefreshMs: number;
  /** Searches one member (identity, or sender without one) may run a minute: QUOTA_EXCEEDED beyond. */
  maxSearchesPerMinute: number;
  /** Connect requests one member may make per connectRequestWindowMs, over all its connections. */
  maxConnectRequestsPerMember: number;
  /** Connections one identity may hold at once, over all its addresses. */
  maxConnectionsPerMember: number;
  /** Bytes of file names one member may list, over all its connections. */
  maxNameBytesPerMember: number;
  /** Contents one connection may offer at once while downloading them (feature `partial`): TOO_MANY_OFFERS beyond. */
  maxOffersPerConnection: number;
  /** Offers from one sender (an address, or an IPv6 /64), over all its connections. */
  maxOffersPerAddress: number;
  /** Offers under one identity, over all its connections. */
  maxOffersPerIdentity: number;
  /** Offers this tracker keeps in all (they are in memory). */
  maxOffers: number;
  /** Searches one sender (an address, or an IPv6 /64) may watch at once (feature `watch`), over all its connections: TOO_MANY_WATCHES beyond. */
  maxWatchesPerAddress: number;
  /** Searches watched under one identity, over all its connections. */
  maxWatchesPerIdentity: number;
  /** Watches this tracker keeps in all (they are in memory, and every registered file is matched against them). */
  maxWatches: number;
  /** How long a member's ticket for holders lasts (members networks): the longest a revoked member can still fetch. */
  ticketLifetimeMs: number;
}

export const DEFAULT_TRACKER_LIMITS: TrackerLimits = {
  maxFrameBytes: MAX_FRAME_BYTES,
  replyFrameBytes: MAX_FRAME_BYTES,
  maxFilesPerShare: MAX_FILES_PER_SHARE,
  // Room for a few peers with big shares behind one address (a NAT), not for one member filling the
  // database through 64 connections.
  maxFilesPerAddress: 5 * MAX_FILES_PER_SHARE,
  // A peer may share a few folders at once, each a connection.
  maxFilesPerIdentity: 3 * MAX_FILES_PER_SHARE,
  // A broad search takes its share of the database; a sender gets two at a time, whatever its connections.
  maxSearchesPerAddress: 2,
  maxConnections: 1_024,
  maxConnectionsPerAddress: 64,
  verifyReachable: true,
  reachTimeoutMs: 3_000,
  writeTimeoutMs: WRITE_TIMEOUT_MS,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  heartbeatMs: HEARTBEAT_INTERVAL_MS,
  peerTimeoutMs: PEER_TIMEOUT_MS,
  searchBudgetMs: 1_000,
  leaseMs: 15_000,
  // A downloader asks once per firewalled holder of a download, and again on a retry: 30 a minute is a
  // busy person; a flood that would have holders dial out in a loop is not.
  maxConnectRequests: 30,
  // Several peers behind one NAT share an address: room for a few busy ones, not for a flood through
  // many connections.
  maxConnectRequestsPerAddress: 120,
  connectRequestWindowMs: 60_000,
  banRefreshMs: 1_000,
  ticketLifetimeMs: 60_000,
  maxSearchesPerMinute: 300,
  maxConnectRequestsPerMember: 120,
  maxConnectionsPerMember: 16,
  maxNameBytesPerMember: 64 * 1024 * 1024,
  // A peer downloads a few files at once, each one offer; a NAT hides a few such peers.
  maxOffersPerConnection: 16,
  maxOffersPerAddress: 64,
  maxOffersPerIdentity: 32,
  maxOffers: 100_000,
  // A wishlist is at most 32 wants (MAX_WATCHES_PER_CONNECTION): room for a few people behind one address.
  maxWatchesPerAddress: 128,
  maxWatchesPerIdentity: 64,
  maxWatches: 20_000,
};
