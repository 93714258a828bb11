import { randomBytes } from 'node:crypto';
import { type ConnectRequest, formatAddress, formatMs, type HolderRecord, P2PError, senderOf } from '@p2pservice/protocol';
import { quotaError } from './member-quotas.js';
import { counted } from './request-windows.js';
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
 * minute per connection and per address: nobody can use holders to knock on a third party's door.
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
  const { maxConnectRequests, maxConnectRequestsPerAddress, connectRequestWindowMs: windowMs } = tracker.limits;
  const now = Date.now();
  const mine = counted(state.connectRequests, now, windowMs);
  state.connectRequests = mine;
  const sender = senderOf(state.remote.host);
  const fromAddress = tracker.connectRequestsByAddress.take(sender, now);
  if (mine.count > maxConnectRequests) {
    throw new P2PError('RATE_LIMITED', `more than ${maxConnectRequests} connect requests in ${formatMs(windowMs)}`, 'wait a moment before asking again');
  }
  if (fromAddress > maxConnectRequestsPerAddress) {
    throw new P2PError('RATE_LIMITED', `more than ${maxConnectRequestsPerAddress} connect requests from ${sender} in ${formatMs(windowMs)}`, 'wait a moment before asking again');
  }
  const { maxConnectRequestsPerMember } = tracker.limits;
  if (state.remote.id !== undefined && tracker.connectWindows.take(state.remote.id, now) > maxConnectRequestsPerMember) {
    throw quotaError(state.features, 'RATE_LIMITED', `this identity asked for more than ${maxConnectRequestsPerMember} connect-backs in ${formatMs(windowMs)} (its quota)`, 'wait a moment before asking again');
  }
}
