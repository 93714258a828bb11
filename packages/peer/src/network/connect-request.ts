import { type ClientOptions, type ContentHolder, HolderSession, P2PError } from '@p2pservice/protocol';
import { AGENTS } from './agents.js';
import { askTracker, isTrackerOutage, type NetworkAccess, trackersOf } from './tracker-access.js';
import { ConnectBackService } from '../connect-back/service.js';

/**
 * A session with a firewalled holder (README#connect-back): the connect-back service gives a door, a
 * tracker the holder is connected to relays our request, and the holder dials the door and serves us on
 * that connection, as it would on one we had opened. A holder that does not come within `waitMs` counts
 * as stalled.
 */
export async function connectBack(holder: ContentHolder, access: NetworkAccess, options: ClientOptions, waitMs: number): Promise<HolderSession> {
  // A download outside a PeerNode has a service of its own for this one connect-back.
  const service = access.connectBack ?? new ConnectBackService(access);
  const door = await service.door();
  try {
    const token = await relayRequest(access, holder, door.port);
    const socket = await door.arrival(token, holder.id, waitMs);
    return await HolderSession.over(socket, holder, options);
  } finally {
    door.close();
    if (service !== access.connectBack) service.close();
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
