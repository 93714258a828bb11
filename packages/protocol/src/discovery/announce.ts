import { hostname } from 'node:os';
import type { Service } from 'bonjour-service';
import { browseTrackers } from './browse.js';
import { announceInterface, openMdns, paceAnswers } from './mdns.js';
import { type AnnouncedNetwork, SERVICE_TYPE, trackerTxt } from './tracker-service.js';

/** A tracker's announcement on the LAN, until stopped. */
export interface Announcement {
  /** The name announced: TRACKER_NAME, or with " (2)" and so on when another tracker had it. */
  name: string;
  /** The interface address it is announced on; undefined: every IPv4 interface. */
  iface: string | undefined;
  /** Says goodbye (the records with TTL 0, so browsers drop it at once) and closes the socket. */
  stop(): Promise<void>;
}

export interface AnnounceOptions {
  name: string;
  id: string;
  network: AnnouncedNetwork;
  port: number;
  /** The tracker's listen host: the announcement goes only where that listener can be reached. */
  listenHost: string;
  /** Socket trouble after the start (the tracker goes on without being found). */
  onError: (error: Error) => void;
  /** How long to listen for trackers holding the name already, in ms. */
  checkMs?: number;
}

/** The default network name: this machine's name, as the LAN knows it. */
export const defaultTrackerName = (): string => hostname().split('.')[0]!.slice(0, 63) || 'p2pservice';

/** Most names tried ("lab", "lab (2)", … ) before giving up on announcing. */
const MAX_NAME_TRIES = 16;

/**
 * Announces a tracker; undefined when its listener is on no interface that multicast reaches (said by
 * the caller). The name is checked first against those already announced, like DNS-SD's probing: a
 * tracker of another identity holding it makes this one "NAME (2)" (RFC 6763 §7's rename).
 */
export async function announceTracker(options: AnnounceOptions): Promise<Announcement | undefined> {
  const iface = announceInterface(options.listenHost);
  if (iface === null) return undefined;
  const taken = new Set(
    (await browseTrackers({ iface, waitMs: options.checkMs ?? 1000, settleMs: options.checkMs ?? 1000 }))
      .filter((tracker) => tracker.id !== options.id)
      .map((tracker) => tracker.name.toLowerCase()),
  );
  const name = [options.name, ...Array.from({ length: MAX_NAME_TRIES - 1 }, (_, n) => `${options.name} (${n + 2})`)].find((candidate) => !taken.has(candidate.toLowerCase()));
  if (name === undefined) throw new Error(`the names "${options.name}" to "${options.name} (${MAX_NAME_TRIES})" are all taken on the LAN`);
  const mdns = openMdns(iface, options.onError);
  const stopPacing = paceAnswers(mdns.bonjour);
  // Probing was done above; bonjour-service's own probe would only log a conflict to the console.
  const service: Service = mdns.bonjour.publish({
    name,
    type: SERVICE_TYPE,
    port: options.port,
    txt: trackerTxt(options.id, options.network),
    probe: false,
    disableIPv6: true,
    host: `${hostname().split('.')[0]}.local`,
  });
  return {
    name,
    iface,
    stop: async () => {
      // The goodbye is sent before the socket closes: its callback comes once it is out.
      await new Promise<void>((resolve) => (service.stop ? service.stop(() => resolve()) : resolve()));
      stopPacing();
      await mdns.close();
    },
  };
}
