import { type ClientOptions, type ContentHolder, HolderSession, P2PError } from '@p2pservice/protocol';
import { AGENTS } from './agents.js';
import { askTracker, isTrackerOutage, type NetworkAccess, trackersOf } from './tracker-access.js';
import { openDoor } from '../connect-back/door.js';

/**
 * A session with a firewalled holder (README#connect-back): a door opens here, a tracker the holder is
 * connected to relays our request, and the holder dials the door and serves us on that connection, as it
 * would on one we had opened. A holder that does not come within `waitMs` counts as stalled.
 */
export async function connectBack(holder: ContentHolder, access: NetworkAccess, options: ClientOptions, waitMs: number): Promise<HolderSession> {
  // A sharing peer's own port when it has one (the port its user may have opened), else one of its own.
  const door = await (access.connectBackDoor?.() ?? openDoor(access.transport, access.host, access.port ?? 0));
  try {
    const token = await relayRequest(access, holder, door.port);
    const socket = await door.arrival(token, holder.id, waitMs);
    return await HolderSession.over(socket, holder, options);
  } finally {
    door.close();
  }
}

/**
 * Asks the network's trackers in turn until one relays the request: the holder is connected to only one
 * of them (NOT_CONNECTED from the others). Any other refusal (BOTH_FIREWALLED, RATE_LIMITED) is final.
 */
async function relayRequest(access: NetworkAccess, holder: ContentHolder, port: number): Promise<string> {
  const trackers = trackersOf(access);
  const start = Math.floor(Math.random() * trackers.length);
  let last: unknown;
  for (let i = 0; i < trackers.length; i++) {
    const tracker = trackers[(start + i) % trackers.length]!;
    try {
      return await askTracker({ ...access, tracker }, AGENTS.download, (session) => session.connectRequest(holder, port));
    } catch (error) {
      if (!(error instanceof P2PError && (error.code === 'NOT_CONNECTED' || isTrackerOutage(error)))) throw error;
      last = error;
    }
  }
  throw last;
}
