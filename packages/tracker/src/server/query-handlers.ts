import { type ContentHolder, type List, MAX_CONTENTS_PER_NAME, MAX_HOLDERS_PER_CONTENT, MAX_PARTIAL_HOLDERS_PER_CONTENT, parseSearchQuery, type Search, type WhoHas, type WhoHasContent } from '@p2pservice/protocol';
import type { PeerState, TrackerContext } from './peer-state.js';
import { takeSearch } from './member-quotas.js';
import { fitContents, fitHolders, fitListPage, fitSearchPage } from './reply-fit.js';

/** `list`: one page of the network-wide list, cut to fit a frame. */
export async function list(tracker: TrackerContext, state: PeerState, message: List): Promise<void> {
  const rows = await tracker.store.listPage(message.after, message.limit);
  const page = fitListPage(rows, message.limit, tracker.limits.replyFrameBytes);
  await state.connection.send({ type: 'list_page', id: message.id, ...page });
}

/** `who_has`: the contents shared under a name (or the one named by `sha256`), with their holders. */
export async function whoHas(tracker: TrackerContext, state: PeerState, message: WhoHas): Promise<void> {
  const found = await tracker.store.whoHas(message.name, MAX_CONTENTS_PER_NAME, MAX_HOLDERS_PER_CONTENT, message.sha256);
  const contents = found.map((content) => ({ ...content, holders: withPartial(tracker, state, content.sha256, content.holders) }));
  const fitted = fitContents(message.name, contents, tracker.limits.replyFrameBytes);
  await state.connection.send({ type: 'holders', id: message.id, name: message.name, contents: fitted });
}

/** `who_has_content`: the holders of a content under any name (feature who_has_content). */
export async function whoHasContent(tracker: TrackerContext, state: PeerState, message: WhoHasContent): Promise<void> {
  const holders = withPartial(tracker, state, message.sha256, await tracker.store.whoHasContent(message.sha256, MAX_HOLDERS_PER_CONTENT));
  const fitted = fitHolders(message.sha256, holders, tracker.limits.replyFrameBytes);
  await state.connection.send({ type: 'content_holders', id: message.id, sha256: message.sha256, holders: fitted });
}

/**
 * The complete holders, then (for a client with feature `partial`) the partial ones: those of the
 * downloaders of the same content, the asker itself left out.
 */
function withPartial(tracker: TrackerContext, state: PeerState, sha256: string, holders: ContentHolder[]): ContentHolder[] {
  if (!state.features.has('partial')) return holders;
  const partial = tracker.offers.holdersOf(sha256, MAX_PARTIAL_HOLDERS_PER_CONTENT + 1).filter((h) => h.id !== state.remote.id);
  return [...holders, ...partial.slice(0, MAX_PARTIAL_HOLDERS_PER_CONTENT)];
}

/** `search`: one page of the files matching a query, best first (feature search). */
export async function search(tracker: TrackerContext, state: PeerState, message: Search): Promise<void> {
  const query = parseSearchQuery(message.query, message);
  takeSearch(tracker.searchWindows, tracker.limits, state);
  // A sender's searches take turns (each within its own budget, counted once it runs).
  const release = await tracker.searches.take(state.sender);
  let page;
  try {
    const deadline = Date.now() + tracker.limits.searchBudgetMs;
    page = fitSearchPage(await tracker.store.search(query, message.after, message.limit, deadline), message.limit, tracker.limits.replyFrameBytes);
  } finally {
    release();
  }
  await state.connection.send({ type: 'search_page', id: message.id, ...page });
}
