import { type Feature, P2PError, REQUEST_ERROR_CODES, type TrackerRequest, type WireErrorCode } from '@p2pservice/protocol';
import type { PeerState, TrackerContext } from './peer-state.js';
import { connectRequest } from './connect-relay.js';
import { holderFiles } from './holder-files-handler.js';
import { unwatch, watch } from './watch-handlers.js';
import { list, search, whoHas, whoHasContent } from './query-handlers.js';
import { offer, withdraw } from './offer-handlers.js';
import { register, update } from './share-handlers.js';
import { renewTicket } from './ticket-handler.js';

type Handler<M> = (tracker: TrackerContext, state: PeerState, message: M) => Promise<void>;

interface Route<M> {
  handle: Handler<M>;
  /** The feature that must have been agreed in the handshake for this request to be allowed. */
  feature?: Feature;
  /**
   * A request that changes the share: if it cannot be stored (UNAVAILABLE), the connection ends, so the
   * peer reconnects and registers its whole share again instead of going on with a share the tracker
   * never saw change.
   */
  changesShare?: true;
}

/** One handler per request type: adding a request is adding a row (and TypeScript insists on it). */
const ROUTES: { [T in TrackerRequest['type']]: Route<Extract<TrackerRequest, { type: T }>> } = {
  hello: {
    handle: async () => {
      throw new P2PError('UNEXPECTED_MESSAGE', 'hello was already exchanged');
    },
  },
  // The connection loop ends after a bye; there is nothing to answer.
  bye: { handle: async () => undefined },
  ping: { handle: async (_tracker, state, message) => state.connection.send({ type: 'pong', id: message.id }) },
  register: { handle: register, changesShare: true },
  update: { handle: update, changesShare: true },
  list: { handle: list },
  who_has: { handle: whoHas },
  who_has_content: { handle: whoHasContent, feature: 'who_has_content' },
  search: { handle: search, feature: 'search' },
  holder_files: { handle: holderFiles, feature: 'holder_files' },
  watch: { handle: watch, feature: 'watch' },
  unwatch: { handle: unwatch, feature: 'watch' },
  connect_request: { handle: connectRequest, feature: 'connect_back' },
  renew_ticket: { handle: renewTicket, feature: 'members' },
  offer: { handle: offer, feature: 'partial' },
  withdraw: { handle: withdraw, feature: 'partial' },
};

/** Answers one request, refusing one whose feature this connection did not agree to. */
export async function dispatch(tracker: TrackerContext, state: PeerState, message: TrackerRequest): Promise<void> {
  const route = ROUTES[message.type] as Route<TrackerRequest>;
  if (route.feature && !state.features.has(route.feature)) {
    throw new P2PError('UNEXPECTED_MESSAGE', `${message.type} needs feature ${route.feature}, which this connection did not agree to`);
  }
  if (message.type === 'who_has' && message.sha256 !== undefined && !state.features.has('who_has_sha256')) {
    throw new P2PError('UNEXPECTED_MESSAGE', 'who_has with a sha256 needs feature who_has_sha256, which this connection did not agree to');
  }
  try {
    await route.handle(tracker, state, message);
  } catch (error) {
    if (!(error instanceof P2PError && REQUEST_ERROR_CODES.has(error.code) && 'id' in message) || route.changesShare) throw error;
    state.log.info({ code: error.code, request: message.type }, error.message);
    tracker.observer.errorSent(error.code);
    const text = error.hint ? `${error.message}; ${error.hint}` : error.message;
    await state.connection.send({ type: 'error', id: message.id, code: error.code as WireErrorCode, message: text });
  }
}
