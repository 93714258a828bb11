import { randomBytes } from 'node:crypto';
import { type ConnectRequest, formatAddress, formatMs, type HolderRecord, P2PError } from '@p2pservice/protocol';
import type { PeerState, TrackerContext } from './peer-state.js';
import { whyUnreachable } from './reachability.js';

/** How a firewalled peer is found from the record it is listed with. */
export function holderKey(holder: Pick<HolderRecord, 'host' | 'port' | 'id'>): string {
  return `${formatAddress(holder)}#${holder.id}`;
}

/**
 * `connect_request`: asks a firewalled holder, over its own connection to this tracker, to dial the
 * requester. The holder is sent only the address this connection comes from (never one the requester
 * names), only after the tracker reached the requester's port there itself, and only a few times a
 * minute per connection: nobody can use holders to knock on a third party's door.
 */
export async function connectRequest(tracker: TrackerContext, state: PeerState, message: ConnectRequest): Promise<void> {
  takeConnectRequest(tracker, state);
  const holder = tracker.firewalled.get(holderKey(message.holder));
  const where = formatAddress(message.holder);
  if (!holder || holder.connection.isClosed) {
    throw new P2PError('NOT_CONNECTED', `holder ${where} is not connected to this tracker as a firewalled peer`, 'it may have left, or be on another tracker of the network');
  }
  const requester = { host: state.remote.host, port: message.listenPort, ...(state.remote.id && { id: state.remote.id }) };
  const unreachable = await whyUnreachable(tracker.transport, requester, tracker.limits.reachTimeoutMs);
  if (unreachable !== undefined) {
    throw new P2PError(
      'BOTH_FIREWALLED',
      `the holder is firewalled, and so are you: the tracker cannot reach your port ${formatAddress(requester)} either (${unreachable})`,
      "open a TCP port on either side: set PEER_PORT and let it through your firewall, or ask the holder to open theirs",
    );
  }
  const token = randomBytes(16).toString('hex');
  await holder.connection.send({ type: 'connect_notice', token, host: requester.host, port: requester.port, ...(requester.id && { requester: requester.id }) });
  state.log.info({ holder: where, port: message.listenPort }, 'connect request relayed');
  await state.connection.send({ type: 'connect_relayed', id: message.id, token });
}

function takeConnectRequest(tracker: TrackerContext, state: PeerState): void {
  const { maxConnectRequests, connectRequestWindowMs } = tracker.limits;
  const now = Date.now();
  if (now - state.connectRequests.since >= connectRequestWindowMs) state.connectRequests = { since: now, count: 0 };
  if (++state.connectRequests.count > maxConnectRequests) {
    throw new P2PError('RATE_LIMITED', `more than ${maxConnectRequests} connect requests in ${formatMs(connectRequestWindowMs)}`, 'wait a moment before asking again');
  }
}
