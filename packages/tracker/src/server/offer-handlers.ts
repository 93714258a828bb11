import { formatAddress, type HolderRecord, type Offer, P2PError, type Withdraw } from '@p2pservice/protocol';
import { holderKey } from './connect-relay.js';
import type { PeerState, TrackerContext } from './peer-state.js';
import { unreachableError, whyUnreachable } from './reachability.js';

/*
 * A downloader offers the content it is downloading (feature `partial`, spec: Partial holders): it is
 * listed as a partial holder of it, at the address seen on its socket, once its listen port answered with
 * its identity, exactly as a share is (reachable, or firewalled and reached through connect-back).
 */

/** `offer`: lists this connection's peer as a partial holder of the content, within the offer bounds. */
export async function offer(tracker: TrackerContext, state: PeerState, message: Offer): Promise<void> {
  const id = state.remote.id;
  if (!id) throw new P2PError('ACCESS_DENIED', 'offering a download needs an identity: connect with a client certificate');
  const holder: HolderRecord = { host: state.remote.host, port: message.listenPort, id };
  let firewalled: string | undefined;
  if (tracker.limits.verifyReachable && state.verifiedPort !== message.listenPort) {
    const unreachable = await whyUnreachable(tracker.transport, holder, tracker.limits.reachTimeoutMs);
    if (unreachable === undefined) state.verifiedPort = message.listenPort;
    else if (state.features.has('connect_back')) {
      firewalled = `the tracker cannot reach ${formatAddress(holder)} (${unreachable})`;
      holder.firewalled = true;
    } else throw unreachableError(holder, unreachable);
  }
  const count = tracker.offers.offer(state, { sender: state.sender, identity: id }, message.sha256, { ...holder, root: message.root });
  // A firewalled partial holder answers connect requests on this connection, as a firewalled share does.
  if (holder.firewalled && state.firewalledAs === undefined) {
    state.firewalledAs = holderKey(holder);
    tracker.firewalled.set(state.firewalledAs, state);
  }
  state.log.debug({ sha256: message.sha256, port: message.listenPort, offers: count }, 'download offered');
  await state.connection.send({ type: 'offers', id: message.id, count, ...(firewalled && { firewalled }) });
}

/** `withdraw`: ends this connection's offer of a content. */
export async function withdraw(tracker: TrackerContext, state: PeerState, message: Withdraw): Promise<void> {
  const count = tracker.offers.withdraw(state, message.sha256);
  await state.connection.send({ type: 'offers', id: message.id, count });
}
