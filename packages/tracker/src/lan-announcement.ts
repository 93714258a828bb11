import { announceTracker, type Announcement, defaultTrackerName } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { NetworkKind } from './server/member-gate.js';

export interface AnnounceWhat {
  /** TRACKER_NAME; undefined: this machine's name. */
  name: string | undefined;
  id: string;
  network: NetworkKind;
  listenHost: string;
  port: number;
}

/**
 * Announces the tracker on the LAN, after it listens (the check of the name takes a second, which a
 * start should not wait for). Trouble is logged, never fatal: a tracker that cannot be found on the LAN
 * still serves everyone who has its address.
 */
export async function announceOnLan(what: AnnounceWhat, logger: Logger): Promise<Announcement | undefined> {
  try {
    const announcement = await announceTracker({
      name: what.name ?? defaultTrackerName(),
      id: what.id,
      network: what.network,
      port: what.port,
      listenHost: what.listenHost,
      onError: (error) => logger.warn({ err: error }, `announcing on the LAN: ${error.message}`),
    });
    if (announcement) {
      logger.info({ announcedAs: announcement.name, interface: announcement.iface ?? 'every IPv4 interface' }, 'announced on the LAN');
    } else {
      logger.warn({ host: what.listenHost }, 'not announced on the LAN: no IPv4 interface holds the listen address (peers need the address)');
    }
    return announcement;
  } catch (error) {
    logger.warn({ err: error }, `not announced on the LAN: ${(error as Error).message}`);
    return undefined;
  }
}
