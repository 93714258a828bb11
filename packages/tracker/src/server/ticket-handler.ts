import { P2PError, type RenewTicket } from '@p2pservice/protocol';
import type { PeerState, TrackerContext } from './peer-state.js';

/**
 * renew_ticket: a fresh ticket for the network's holders. The connection is a member's (it was admitted,
 * and a revocation closes it), so no database is asked. A ticket signed less than a quarter of its
 * lifetime ago is sent again as it is: asking a million times costs one signature per quarter lifetime.
 */
export async function renewTicket(tracker: TrackerContext, state: PeerState, message: RenewTicket): Promise<void> {
  const { gate, limits } = tracker;
  const member = state.remote.id;
  if (gate.kind !== 'members' || member === undefined) throw new P2PError('UNEXPECTED_MESSAGE', 'renew_ticket: this is not a members network, or this client presented no identity');
  const fresh = state.ticket && state.ticket.until - Date.now() > (limits.ticketLifetimeMs * 3) / 4;
  if (!fresh) state.ticket = gate.ticketFor(member);
  await state.connection.send({ type: 'ticket', id: message.id, ticket: state.ticket! });
}
