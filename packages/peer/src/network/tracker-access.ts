import {
  type Address,
  type ClientOptions,
  type Endpoint,
  formatAddress,
  type KnownTrackers,
  P2PError,
  RemoteError,
  TrackerSession,
  type Transport,
} from '@p2pservice/protocol';
import type { HolderPool } from './holder-pool.js';
import type { ConnectBackService } from '../connect-back/service.js';
import type { MemberTickets } from './member-tickets.js';
import { PEER_SETTINGS } from '../settings/table.js';

/** How every part of a peer reaches the network: the same trackers, transport, key and trust. */
export interface NetworkAccess {
  /**
   * The network's tracker, or its several trackers (which share one database and answer alike), each
   * optionally pinned to its identity (`HOST:PORT#ID`).
   */
  tracker: Endpoint | readonly Endpoint[];
  /** TLS with the peer's identity (programs), or anything else with dial/listen (tests, benchmarks). */
  transport: Transport;
  /** The key of a private network, proved on every connection. */
  networkKey?: Buffer;
  /** On a members network: the ticket shown to holders, and which tickets this peer's holders accept. */
  tickets?: MemberTickets;
  /** Trackers met before; a tracker named without an identity is trusted on first use and remembered. */
  knownTrackers?: KnownTrackers;
  /** Told when a tracker was trusted on first use. */
  onTrackerTrusted?: (address: Address, id: string) => void;
  /**
   * Where firewalled holders connect back to this peer's downloads (a PeerNode's one service). Without
   * it, each connect-back opens a door of its own on `host` and `port`.
   */
  connectBack?: ConnectBackService;
  /** The address to listen on for holders that connect back (PEER_HOST); every address when absent. */
  host?: string;
  /** The port to listen on for them (PEER_PORT); any free one when absent or 0. */
  port?: number;
  /** Holder connections kept a few seconds between downloads (a PeerNode's one pool); none when absent. */
  holderPool?: HolderPool;
}

export function trackersOf(access: Pick<NetworkAccess, 'tracker'>): readonly Endpoint[] {
  return Array.isArray(access.tracker) ? access.tracker : [access.tracker as Endpoint];
}

/** The trackers as people write them: `HOST:PORT`, comma-separated. */
export function trackersLabel(access: Pick<NetworkAccess, 'tracker'>): string {
  return trackersOf(access).map(formatAddress).join(', ');
}

/** Client options for a holder connection (the holder's identity comes with its record). */
export function clientOptions(access: NetworkAccess, agent: string): ClientOptions {
  const { tickets } = access;
  return { agent, transport: access.transport, ...(access.networkKey && { networkKey: access.networkKey }), ...(tickets && { ticket: () => tickets.current() }) };
}

/**
 * Whether another tracker of the network may do what this one could not: it was out of reach, cut
 * the connection, did not answer, was full, or could not reach its database. An identity or a key that
 * does not match is not a reason to go elsewhere: it is reported.
 */
export function isTrackerOutage(error: unknown): boolean {
  if (error instanceof RemoteError) return error.code === 'UNAVAILABLE' || error.code === 'TOO_MANY_CONNECTIONS';
  return error instanceof P2PError && (error.code === 'CONNECT_FAILED' || error.code === 'TIMEOUT' || error.code === 'CONNECTION_CLOSED');
}

/** A session with one tracker, its identity checked (pinned, remembered or trusted on first use). */
async function openOne(access: NetworkAccess, tracker: Endpoint, agent: string): Promise<TrackerSession> {
  try {
    const session = await TrackerSession.open(tracker, {
      ...clientOptions(access, agent),
      ...(access.knownTrackers && { knownTrackers: access.knownTrackers }),
      ...(access.onTrackerTrusted && { onFirstUse: access.onTrackerTrusted }),
    });
    access.tickets?.welcomed(session.welcome!, session.serverId);
    return session;
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'BANNED') {
      throw new P2PError('BANNED', `tracker ${error.from} refused: ${error.said}`, "ask the network's operator");
    }
    if (error instanceof RemoteError && error.code === 'ACCESS_DENIED' && /member|invite|revoked/.test(error.said)) {
      // A members network: its own message says what to do (an invite; nothing, once revoked).
      const hint = /revoked/.test(error.said) ? "ask the network's operator" : /invite /.test(error.said) ? undefined : "then join with its link: peer join 'LINK'";
      throw new P2PError('ACCESS_DENIED', `tracker ${error.from} refused: ${error.said}`, hint);
    }
    if (error instanceof RemoteError && error.code === 'ACCESS_DENIED') {
      const { env } = PEER_SETTINGS.networkKey;
      const hint = access.networkKey ? `${env} is not this network's key: ask its operator for it` : `set ${env} to the network's key: ask its operator for it`;
      throw new P2PError('ACCESS_DENIED', `tracker ${error.from} refused: ${error.said}`, hint);
    }
    throw error;
  }
}

/**
 * Runs `use` with a session of one of the network's trackers: from the one at `first` (by default one
 * at random, so that peers spread over the trackers) on to the next whenever one is out (isTrackerOutage).
 * With a single tracker its error is thrown as it is; when all are out, one error names each.
 */
export async function withTracker<T>(
  access: NetworkAccess,
  agent: string,
  use: (session: TrackerSession, index: number) => Promise<T>,
  first = Math.floor(Math.random() * trackersOf(access).length),
): Promise<T> {
  const trackers = trackersOf(access);
  // A node started before its tracker was chosen (`peer ui` on a LAN where none, or several, answered).
  if (trackers.length === 0) throw new P2PError('NO_TRACKER', 'no tracker is chosen yet', 'choose one of those found on the LAN, or paste a join link');
  const failures: { tracker: Endpoint; error: unknown }[] = [];
  for (let i = 0; i < trackers.length; i++) {
    const index = (first + i) % trackers.length;
    const tracker = trackers[index]!;
    try {
      return await use(await openOne(access, tracker, agent), index);
    } catch (error) {
      if (!isTrackerOutage(error)) throw error;
      failures.push({ tracker, error });
    }
  }
  if (failures.length === 1) throw failures[0]!.error;
  const last = failures.at(-1)!.error as P2PError;
  const each = failures.map(({ tracker, error }) => `${formatAddress(tracker)}: ${(error as Error).message}`).join('; ');
  throw new P2PError(last.code, `no tracker of the network could serve: ${each}`, 'check that at least one of them runs and is reachable');
}

/** A session with one of the network's trackers, failing over as withTracker does. The caller closes it. */
export function openTracker(access: NetworkAccess, agent: string, first?: number): Promise<TrackerSession> {
  return withTracker(access, agent, async (session) => session, first);
}

/**
 * Asks one of the network's trackers with `ask`, closing the session after; a tracker that is out, at
 * the connection or at the question, passes the question to the next.
 */
export function askTracker<T>(access: NetworkAccess, agent: string, ask: (session: TrackerSession) => Promise<T>): Promise<T> {
  return withTracker(access, agent, async (session) => {
    try {
      return await ask(session);
    } finally {
      await session.close();
    }
  });
}
