import { type FileEntry, formatAddress, type HolderRecord, P2PError, type Register, type Update } from '@p2pservice/protocol';
import { holderKey } from './connect-relay.js';
import type { PeerState, TrackerContext } from './peer-state.js';
import { unreachableError, whyUnreachable } from './reachability.js';

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
  // A peer that can serve through connect-back is listed as firewalled when the port does not answer.
  const holder: HolderRecord = { host: state.remote.host, port: message.listenPort, id };
  let firewalled: string | undefined;
  if (limits.verifyReachable && state.verifiedPort !== message.listenPort) {
    const unreachable = await whyUnreachable(tracker.transport, holder, limits.reachTimeoutMs);
    if (unreachable === undefined) {
      state.verifiedPort = message.listenPort;
    } else if (state.features.has('connect_back')) {
      firewalled = `the tracker cannot reach ${formatAddress(holder)} (${unreachable})`;
      holder.firewalled = true;
    } else {
      throw unreachableError(holder, unreachable);
    }
  }
  const joining = state.peer === undefined;
  state.peer = await tracker.store.putShare(state.peer, holder, files);
  state.listedAs = formatAddress(holder);
  listFirewalled(tracker, state, holder);
  if (joining) tracker.observer.peerJoined(state.listedAs, files.length);
  state.log.info({ peer: state.peer, port: message.listenPort, files: files.length, ...(firewalled && { firewalled: true }) }, 'share registered');
  await state.connection.send({ type: 'registered', id: message.id, files: files.length, complete: true, ...(firewalled && { firewalled }) });
}

/** Keeps `tracker.firewalled` in step with how the peer is listed now. */
function listFirewalled(tracker: TrackerContext, state: PeerState, holder: HolderRecord): void {
  if (state.firewalledAs !== undefined) tracker.firewalled.delete(state.firewalledAs);
  state.firewalledAs = holder.firewalled ? holderKey(holder) : undefined;
  if (state.firewalledAs !== undefined) tracker.firewalled.set(state.firewalledAs, state);
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
