import { MAX_FRAME_BYTES, parseSearchQuery, type Unwatch, type Watch } from '@p2pservice/protocol';
import { takeSearch } from './member-quotas.js';
import type { PeerState, TrackerContext } from './peer-state.js';

/*
 * Watched searches (feature `watch`, spec: Watching a search): a peer's wishlist kept on the tracker,
 * which tells the peer of new matching files as shares register, instead of the peer searching again
 * and again.
 */

/**
 * `watch`: keeps a search for this connection, within the watch bounds. It counts as a search against
 * the member's quota a minute (a watch is a standing search), parsed with the same language.
 */
export async function watch(tracker: TrackerContext, state: PeerState, message: Watch): Promise<void> {
  const query = parseSearchQuery(message.query, message);
  takeSearch(tracker.searchWindows, tracker.limits, state);
  const socket = state.connection.socket;
  // A watcher that does not read gets no more notices than a frame's worth queued: it is told `more`
  // with the next one that fits, and searches for the rest.
  const notify = (notice: Parameters<typeof state.connection.send>[0]) => {
    if (socket.destroyed || socket.writableLength >= MAX_FRAME_BYTES) return false;
    void state.connection.send(notice).catch(() => undefined);
    return true;
  };
  const { watch: number, count } = tracker.watches.watch(state, { sender: state.sender, identity: state.remote.id ?? '', notify }, query);
  state.log.debug({ watch: number, watches: count }, 'search watched');
  await state.connection.send({ type: 'watches', id: message.id, watch: number, count });
}

/** `unwatch`: ends one watch of this connection. */
export async function unwatch(tracker: TrackerContext, state: PeerState, message: Unwatch): Promise<void> {
  const count = tracker.watches.unwatch(state, message.watch);
  await state.connection.send({ type: 'watches', id: message.id, watch: message.watch, count });
}
