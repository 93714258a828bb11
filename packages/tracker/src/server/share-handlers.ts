import { type FileEntry, formatAddress, P2PError, type Register, type Update } from '@p2pservice/protocol';
import type { PeerState, TrackerContext } from './peer-state.js';
import { checkReachable } from './reachability.js';

/** `register`: stage chunks; on the last one, check the listen port and store the whole share at once. */
export async function register(tracker: TrackerContext, state: PeerState, message: Register): Promise<void> {
  const { limits } = tracker;
  const staged = state.pending.length + message.files.length;
  if (staged > limits.maxFilesPerShare) {
    throw new P2PError('TOO_MANY_FILES', `a share of more than ${limits.maxFilesPerShare} files is over the limit`);
  }
  state.pending.push(...message.files);
  if (message.more) {
    await state.connection.send({ type: 'registered', id: message.id, files: staged, complete: false });
    return;
  }
  const files = state.pending;
  state.pending = [];
  // A holder is listed with the identity it proved to the tracker: without one nobody could check it.
  const id = state.remote.id;
  if (!id) throw new P2PError('ACCESS_DENIED', 'sharing needs an identity: connect with a client certificate');
  const duplicate = findDuplicateName(files);
  if (duplicate !== undefined) throw new P2PError('DUPLICATE_NAME', `the share names "${duplicate}" twice`);
  // The holder is listed at the address seen on the socket (never at one the peer claims), and only once
  // the same identity answered at the listen port: the tracker never lists what another program serves.
  const holder = { host: state.remote.host, port: message.listenPort, id };
  if (limits.verifyReachable && state.verifiedPort !== message.listenPort) {
    await checkReachable(tracker.transport, holder, limits.reachTimeoutMs);
    state.verifiedPort = message.listenPort;
  }
  const joining = state.peer === undefined;
  state.peer = await tracker.store.putShare(state.peer, holder, files);
  state.listedAs = formatAddress(holder);
  if (joining) tracker.observer.peerJoined(state.listedAs, files.length);
  state.log.info({ peer: state.peer, port: message.listenPort, files: files.length }, 'share registered');
  await state.connection.send({ type: 'registered', id: message.id, files: files.length, complete: true });
}

/** `update`: apply a delta to the registered share, in one transaction. */
export async function update(tracker: TrackerContext, state: PeerState, message: Update): Promise<void> {
  if (state.peer === undefined || state.pending.length > 0) {
    throw new P2PError('UNEXPECTED_MESSAGE', 'update before a complete register');
  }
  const duplicate = findDuplicateName(message.added);
  if (duplicate !== undefined) throw new P2PError('DUPLICATE_NAME', `the update adds "${duplicate}" twice`);
  const files = await tracker.store.updateShare(state.peer, message.added, message.removed, tracker.limits.maxFilesPerShare);
  state.log.info({ peer: state.peer, added: message.added.length, removed: message.removed.length, files }, 'share updated');
  await state.connection.send({ type: 'updated', id: message.id, files });
}

function findDuplicateName(files: readonly FileEntry[]): string | undefined {
  const seen = new Set<string>();
  for (const { name } of files) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
