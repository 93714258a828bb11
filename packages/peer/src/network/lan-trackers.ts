import { connect } from 'node:net';
import { type AnnouncedTracker, browseTrackers, type BrowseOptions, type Endpoint, type KnownTrackers } from '@p2pservice/protocol';

/** How long a tracker found on the LAN has to accept a TCP connection before it counts as gone, in ms. */
export const LAN_TRACKER_CONNECT_MS = 1500;

/** What a look on the LAN found, sorted out. */
export interface LanTrackers {
  /** Announced, answering, and either new or presenting the identity remembered under its name. */
  usable: FoundTracker[];
  /** Announced under a name remembered with another identity: an impostor, or a tracker made anew. */
  refused: { tracker: AnnouncedTracker; remembered: string }[];
  /** Announced, but nothing accepts a connection at any of its addresses (a stale announcement). */
  silent: AnnouncedTracker[];
}

export interface FoundTracker extends AnnouncedTracker {
  /** The first of its hosts that accepted a connection. */
  host: string;
  /** Whether its identity was remembered under its name before this look. */
  known: boolean;
}

/**
 * Looks for trackers on the LAN and sorts them: what anyone on the LAN says is only a candidate. Its
 * name is checked against the identity remembered under it (trust on first use, as for an address),
 * its port against a TCP connection, and the identity itself by the TLS handshake when it is used.
 */
export async function lookOnLan(knownTrackers: KnownTrackers, browse: BrowseOptions = {}): Promise<LanTrackers> {
  const announced = await browseTrackers(browse);
  const sorted: LanTrackers = { usable: [], refused: [], silent: [] };
  await Promise.all(
    announced.map(async (tracker) => {
      const remembered = await knownTrackers.lookupName(tracker.name);
      if (remembered !== undefined && remembered !== tracker.id) return void sorted.refused.push({ tracker, remembered });
      const host = await firstAnswering(tracker.hosts, tracker.port);
      if (host === undefined) return void sorted.silent.push(tracker);
      sorted.usable.push({ ...tracker, host, known: remembered !== undefined });
    }),
  );
  const byName = (a: AnnouncedTracker, b: AnnouncedTracker) => a.name.localeCompare(b.name);
  sorted.usable.sort(byName);
  sorted.silent.sort(byName);
  sorted.refused.sort((a, b) => byName(a.tracker, b.tracker));
  return sorted;
}

/** The endpoint to connect to a tracker found on the LAN: pinned to the identity it announced. */
export const endpointOf = (tracker: FoundTracker): Endpoint => ({ host: tracker.host, port: tracker.port, id: tracker.id });

async function firstAnswering(hosts: readonly string[], port: number): Promise<string | undefined> {
  for (const host of hosts) if (await accepts(host, port)) return host;
  return undefined;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: LAN_TRACKER_CONNECT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
