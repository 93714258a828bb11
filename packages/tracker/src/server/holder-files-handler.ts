import { type HolderFiles, P2PError, quoted, terminalSafe } from '@p2pservice/protocol';
import type { FoundHolder, HolderSelector } from '../store/store.js';
import type { PeerState, TrackerContext } from './peer-state.js';
import { fitListPage } from './reply-fit.js';

/** The start of an identity people copy: its first group at least, upper case, dashes where they go. */
const IDENTITY_START = /^[A-Z2-7]{7}(-[A-Z2-7]{1,7})*-?$/;
const ADDRESS = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$|^([0-9.]+):(\d{1,5})$/;

/**
 * What a `holder_files` text can name, most precise first: `HOST:PORT` (an IP address, as downloads name
 * holders), the start of an identity, or a member name. A text that reads as an identity's start may also
 * be a member's name: both are asked.
 */
export function holderSelectors(text: string): HolderSelector[] {
  const address = ADDRESS.exec(text);
  if (address) return [{ host: address[1] ?? address[3]!, port: Number(address[2] ?? address[4]) }];
  const selectors: HolderSelector[] = [];
  const upper = text.toUpperCase();
  if (IDENTITY_START.test(upper)) selectors.push({ identityStart: upper.replace(/-$/, '') });
  selectors.push({ member: text });
  return selectors;
}

/** `holder_files` (feature holder_files): one page of one online holder's own files, cut to fit a frame. */
export async function holderFiles(tracker: TrackerContext, state: PeerState, message: HolderFiles): Promise<void> {
  const holder = await findOne(tracker, message.holder);
  const rows = await tracker.store.holderPage(holder.peers, message.after, message.limit);
  const page = fitListPage(rows, message.limit, tracker.limits.replyFrameBytes);
  await state.connection.send({ type: 'holder_page', id: message.id, holder: holder.identity, ...(holder.member !== undefined && { member: holder.member }), ...page });
}

/** The one online holder `text` names; NOT_FOUND, saying why, when none is or several are. */
async function findOne(tracker: TrackerContext, text: string): Promise<FoundHolder> {
  const found = new Map<string, FoundHolder>();
  for (const selector of holderSelectors(text)) for (const holder of await tracker.store.findHolders(selector, 2)) found.set(holder.identity, holder);
  const shown = quoted(terminalSafe(text));
  if (found.size === 0) throw new P2PError('NOT_FOUND', `no online holder is ${shown}`, 'name it HOST:PORT as a download showed it, by its identity (or its first 7 characters), or by its member name');
  if (found.size > 1) throw new P2PError('NOT_FOUND', `${shown} names several online holders`, 'give more of the identity, or HOST:PORT');
  return found.values().next().value!;
}
