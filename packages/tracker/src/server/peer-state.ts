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
}

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
  /** The listen port the tracker last managed to connect back to. */
  verifiedPort: number | undefined;
}
