import type { Feature, FramedConnection, Ticket, RemotePeer, SenderCounts, TrackerReply, TrackerRequest, Transport } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { TrackerLimits } from '../settings/defaults.js';
import type { PeerId, TrackerStore } from '../store/store.js';
import type { Departures } from './departures.js';
import type { PartialOffers } from './partial-offers.js';
import type { SearchWatches } from './search-watches.js';
import type { MemberGate } from './member-gate.js';
import type { RequestWindow, RequestWindows } from './request-windows.js';

export type TrackerConnection = FramedConnection<TrackerRequest, TrackerReply>;

/** What every request handler may use: the tracker's parts. */
export interface TrackerContext {
  readonly store: TrackerStore;
  readonly limits: TrackerLimits;
  readonly transport: Transport;
  readonly observer: TrackerObserver;
  /** The firewalled peers connected to this tracker, by the holder record they are listed with. */
  readonly firewalled: Map<string, PeerState>;
  /** Connect requests per sender in the current window (see connect-relay.ts). */
  readonly connectRequestsByAddress: RequestWindows;
  /** Files listed per sender and per identity, over all connections (share-handlers.ts). */
  readonly filesBySender: SenderCounts;
  readonly filesByIdentity: SenderCounts;
  /** Searches in progress per sender, and their waiting lines. */
  readonly searches: SenderTurns;
  /** Who may come in, and the tickets of a members network. */
  readonly gate: MemberGate;
  /** Members' searches and connect requests in the current minute (member-quotas.ts). */
  readonly searchWindows: RequestWindows;
  readonly connectWindows: RequestWindows;
  /** Bytes of file names listed per member, over all its connections. */
  readonly nameBytesByMember: Map<string, number>;
  /** The partial holders of this tracker: downloaders offering what they have (feature `partial`). */
  readonly offers: PartialOffers;
  /** The searches connections keep (feature watch), matched against every file registered here. */
  readonly watches: SearchWatches;
  /** Departed peers' rows still being removed, for the same identity to take over (departures.ts). */
  readonly departures: Departures;
}

/** Takes turns per sender: `take` resolves (with the release) once fewer than the bound are in progress. */
export interface SenderTurns {
  take(sender: string): Promise<() => void>;
}

/** Watches the tracker at work, for its status page and metrics (see observe/); it never changes an answer. */
export interface TrackerObserver {
  /** A request arrived; the returned function is called when it has been answered (or failed). */
  requestStarted(type: TrackerRequest['type']): () => void;
  /** An error was sent to a peer, or ended its connection. */
  errorSent(code: string): void;
  peerJoined(address: string, files: number): void;
  peerLeft(address: string): void;
}

/** The observer of a tracker nobody watches. */
export const UNOBSERVED: TrackerObserver = {
  requestStarted: () => () => undefined,
  errorSent: () => undefined,
  peerJoined: () => undefined,
  peerLeft: () => undefined,
};

/** A registration under way on one connection. */
export interface Registration {
  generation: number;
  listenPort: number;
  /** Files received so far. */
  files: number;
  /** Bytes of their names. */
  nameBytes: number;
  /** The first registration of this connection: the peer joins the network when it completes. */
  joining: boolean;
  /** Why the tracker could not reach the listen port, when the share is listed as firewalled. */
  firewalled?: string;
}

/** What one connection has told the tracker so far. */
export interface PeerState {
  readonly connection: TrackerConnection;
  /** The other end as the transport saw it: the address a registration is listed under. */
  readonly remote: RemotePeer;
  readonly features: ReadonlySet<Feature>;
  readonly log: Logger;
  /** Who the per-sender limits count this connection under (its address, or IPv6 /64). */
  readonly sender: string;
  /** Set once a registration began; the peer's rows live exactly as long as this connection. */
  peer: PeerId | undefined;
  /** A registration sent in chunks (`more: true`) and not yet complete. */
  registration: Registration | undefined;
  /** The share's size once registered or updated. */
  files: number;
  /** Files this connection is counted for in filesBySender and filesByIdentity. */
  charged: number;
  /** Bytes of file names this connection is counted for in nameBytesByMember. */
  nameBytes: number;
  /** The end of the last registration (its previous files leaving), which the share's next change waits for. */
  cleanup: Promise<void> | undefined;
  /** HOST:PORT the share is listed under, once registered (for the status page's joins and leaves). */
  listedAs: string | undefined;
  /** The listen port the tracker last managed to connect back to. */
  verifiedPort: number | undefined;
  /** The key this peer has in `firewalled` while it is listed as firewalled. */
  firewalledAs: string | undefined;
  /** The last ticket this connection was given (members networks): renewals soon after get it again, unsigned anew. */
  ticket: Ticket | undefined;
  /** When this connection's current window of connect requests began, and how many it made in it. */
  connectRequests: RequestWindow;
}
