import {
  type Address,
  type ClientOptions,
  type Endpoint,
  type KnownTrackers,
  P2PError,
  RemoteError,
  TrackerSession,
  type Transport,
} from '@p2pservice/protocol';

/** How every part of a peer reaches the network: the same tracker, transport, key and trust. */
export interface NetworkAccess {
  /** The tracker, optionally pinned to its identity (`HOST:PORT#ID`). */
  tracker: Endpoint;
  /** TLS with the peer's identity (programs), or anything else with dial/listen (tests, benchmarks). */
  transport: Transport;
  /** The key of a private network, proved on every connection. */
  networkKey?: Buffer;
  /** Trackers met before; a tracker named without an identity is trusted on first use and remembered. */
  knownTrackers?: KnownTrackers;
  /** Told when a tracker was trusted on first use. */
  onTrackerTrusted?: (address: Address, id: string) => void;
}

/** Client options for a holder connection (the holder's identity comes with its record). */
export function clientOptions(access: NetworkAccess, agent: string): ClientOptions {
  return { agent, transport: access.transport, ...(access.networkKey && { networkKey: access.networkKey }) };
}

/** A session with the tracker, its identity checked (pinned, remembered or trusted on first use). */
export async function openTracker(access: NetworkAccess, agent: string): Promise<TrackerSession> {
  try {
    return await TrackerSession.open(access.tracker, {
      ...clientOptions(access, agent),
      ...(access.knownTrackers && { knownTrackers: access.knownTrackers }),
      ...(access.onTrackerTrusted && { onFirstUse: access.onTrackerTrusted }),
    });
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'ACCESS_DENIED') {
      const hint = access.networkKey ? "NETWORK_KEY is not this network's key: ask its operator for it" : "set NETWORK_KEY to the network's key: ask its operator for it";
      throw new P2PError('ACCESS_DENIED', `tracker ${error.from} refused: ${error.said}`, hint);
    }
    throw error;
  }
}
