import type { Feature, FileEntry, FramedConnection, RemotePeer, TrackerReply, TrackerRequest, Transport } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { TrackerLimits } from '../limits.js';
import type { PeerId, TrackerStore } from '../store/store.js';

export type TrackerConnection = FramedConnection<TrackerRequest, TrackerReply>;

/** What every request handler may use: the tracker's parts. */
export interface TrackerContext {
  readonly store: TrackerStore;
  readonly limits: TrackerLimits;
  readonly transport: Transport;
  readonly observer: TrackerObserver;
  /** The firewalled peers connected to this tracker, by the holder record they are listed with. */
  readonly firewalled: Map<string, PeerState>;
  /** Connect requests per remote address in the current window (see connect-relay.ts). */
  readonly connectRequestsByAddress: Map<string, RequestWindow>;
}

/** When a window of counted requests began, and how many came in it. */
export interface RequestWindow {
  since: number;
  count: number;
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

/** What one connection has told the tracker so far. */
export interface PeerState {
  readonly connection: TrackerConnection;
  /** The other end as the transport saw it: the address a registration is listed under. */
  readonly remote: RemotePeer;
  readonly features: ReadonlySet<Feature>;
  readonly log: Logger;
  /** Set once a share is registered; the peer's rows live exactly as long as this connection. */
  peer: PeerId | undefined;
  /** Files of a share sent in several `register` frames, stored when the last one arrives. */
  pending: FileEntry[];
  /** HOST:PORT the share is listed under, once registered (for the status page's joins and leaves). */
  listedAs: string | undefined;
  /** The listen port the tracker last managed to connect back to. */
  verifiedPort: number | undefined;
  /** The key this peer has in `firewalled` while it is listed as firewalled. */
  firewalledAs: string | undefined;
  /** When this connection's current window of connect requests began, and how many it made in it. */
  connectRequests: RequestWindow;
}
