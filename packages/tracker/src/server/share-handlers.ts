import { formatAddress, type HolderRecord, P2PError, type Register, type Update } from '@p2pservice/protocol';
import { duplicateNameIn } from '../store/content-rows.js';
import type { ShareGeneration } from '../store/store.js';
import { holderKey } from './connect-relay.js';
import type { PeerState, Registration, TrackerContext } from './peer-state.js';
import { unreachableError, whyUnreachable } from './reachability.js';
import { chargeNameBytes, nameBytesOf } from './member-quotas.js';

/*
 * A share is written as its chunks arrive (spec: register): nothing is staged in memory, whatever its
 * size, and each chunk is stored in short slices by the store. Every file a connection lists counts
 * against its share's limit, its sender's and its identity's, checked before anything is written.
 */

/** `register`: the first chunk checks the listen port and begins the registration; each chunk is stored; the last ends it. */
export async function register(tracker: TrackerContext, state: PeerState, message: Register): Promise<void> {
  await state.cleanup;
  const duplicate = duplicateNameIn(message.files);
  if (duplicate) throw duplicate;
  const registration = state.registration ?? (await begin(tracker, state, message));
  if (message.listenPort !== registration.listenPort) {
    throw new P2PError('UNEXPECTED_MESSAGE', `the chunks of one registration must name one listenPort (${registration.listenPort}, then ${message.listenPort})`);
  }
  const staged = registration.files + message.files.length;
  const stagedBytes = registration.nameBytes + nameBytesOf(message.files.map((file) => file.name));
  chargeFiles(tracker, state, Math.max(state.files, staged));
  chargeNameBytes(tracker.nameBytesByMember, tracker.limits, state, Math.max(state.nameBytes, stagedBytes));
  await tracker.store.addShareFiles(state.peer!, registration.generation, message.files);
  await tracker.watches.matchFiles(message.files, state.remote.id);
  registration.files = staged;
  registration.nameBytes = stagedBytes;
  if (message.more) {
    await state.connection.send({ type: 'registered', id: message.id, files: staged, complete: false });
    return;
  }
  await finish(tracker, state, message);
}

/** Checks the listen port and begins a registration: the peer is listed from its first chunk on. */
async function begin(tracker: TrackerContext, state: PeerState, message: Register): Promise<Registration> {
  const { limits } = tracker;
  // A holder is listed with the identity it proved to the tracker: without one nobody could check it.
  const id = state.remote.id;
  if (!id) throw new P2PError('ACCESS_DENIED', 'sharing needs an identity: connect with a client certificate');
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
  // The same identity's departed peer, its rows still being removed (a peer restarted at once): they are
  // taken over, and sending the same files again touches only their rows (departures.ts).
  const takenOver = joining ? await tracker.departures.takeOver(id) : undefined;
  let started: ShareGeneration;
  try {
    started = await tracker.store.startShare(state.peer ?? takenOver, holder);
  } catch (error) {
    // Not taken over after all: they go as they were going.
    if (takenOver !== undefined) void tracker.departures.remove(undefined, takenOver).catch(() => undefined);
    throw error;
  }
  // A peer moved to a new id (its firewalled flag changed) has no rows under the old one any more.
  if (!joining && started.peer !== state.peer) state.files = 0;
  state.peer = started.peer;
  state.listedAs = formatAddress(holder);
  listFirewalled(tracker, state, holder);
  state.registration = { generation: started.generation, listenPort: message.listenPort, files: 0, nameBytes: 0, joining, ...(firewalled && { firewalled }) };
  return state.registration;
}

/**
 * Ends a registration: the answer goes at once, and the files of the previous registration that this one
 * did not send again leave after it (the next change of the share waits for that, reads do not).
 */
async function finish(tracker: TrackerContext, state: PeerState, message: Register): Promise<void> {
  const registration = state.registration!;
  state.registration = undefined;
  state.files = registration.files;
  const { firewalled } = registration;
  if (registration.joining) tracker.observer.peerJoined(state.listedAs!, state.files);
  state.log.info({ peer: state.peer, port: message.listenPort, files: state.files, ...(firewalled && { firewalled: true }) }, 'share registered');
  await state.connection.send({ type: 'registered', id: message.id, files: state.files, complete: true, ...(firewalled && { firewalled }) });
  const peer = state.peer!;
  state.cleanup = tracker.store.finishShare(peer, registration.generation).then(
    (files) => {
      state.files = files;
      chargeFiles(tracker, state, files, false);
      // The names of this registration are all that is listed now.
      chargeNameBytes(tracker.nameBytesByMember, tracker.limits, state, registration.nameBytes, false);
    },
    (error: unknown) => {
      // The share is not what the peer thinks: it connects again and registers it whole.
      state.log.warn({ err: error, peer }, 'could not remove the files a registration left out; closing the connection');
      state.connection.destroy();
    },
  );
}

/** Keeps `tracker.firewalled` in step with how the peer is listed now. */
function listFirewalled(tracker: TrackerContext, state: PeerState, holder: HolderRecord): void {
  if (state.firewalledAs !== undefined) tracker.firewalled.delete(state.firewalledAs);
  state.firewalledAs = holder.firewalled ? holderKey(holder) : undefined;
  if (state.firewalledAs !== undefined) tracker.firewalled.set(state.firewalledAs, state);
}

/** `update`: apply a delta to the registered share, within the limits. */
export async function update(tracker: TrackerContext, state: PeerState, message: Update): Promise<void> {
  await state.cleanup;
  if (state.peer === undefined || state.registration !== undefined) {
    throw new P2PError('UNEXPECTED_MESSAGE', 'update before a complete register');
  }
  const duplicate = duplicateNameIn(message.added, 'the update');
  if (duplicate) throw duplicate;
  chargeFiles(tracker, state, await tracker.store.countAfterUpdate(state.peer, message.added, message.removed));
  // Counted as sent (a name added again, replacing its entry, counts twice until the next registration).
  const nameBytes = Math.max(0, state.nameBytes + nameBytesOf(message.added.map((file) => file.name)) - nameBytesOf(message.removed));
  chargeNameBytes(tracker.nameBytesByMember, tracker.limits, state, nameBytes);
  const files = await tracker.store.updateShare(state.peer, message.added, message.removed);
  await tracker.watches.matchFiles(message.added, state.remote.id);
  state.files = files;
  chargeFiles(tracker, state, files, false);
  state.log.info({ peer: state.peer, added: message.added.length, removed: message.removed.length, files }, 'share updated');
  await state.connection.send({ type: 'updated', id: message.id, files });
}

/**
 * Counts `files` for this connection against its share's, its sender's and its identity's limits
 * (TOO_MANY_FILES, nothing written, when `check` and one is crossed), and keeps the tallies in step.
 */
export function chargeFiles(tracker: TrackerContext, state: PeerState, files: number, check = true): void {
  const { maxFilesPerShare, maxFilesPerAddress, maxFilesPerIdentity } = tracker.limits;
  const more = files - state.charged;
  const identity = state.remote.id ?? '';
  if (check && more > 0) {
    if (files > maxFilesPerShare) throw new P2PError('TOO_MANY_FILES', `a share of more than ${maxFilesPerShare} files is over the limit`);
    if (tracker.filesBySender.of(state.sender) + more > maxFilesPerAddress) {
      throw new P2PError('TOO_MANY_FILES', `${state.sender} would list more than ${maxFilesPerAddress} files, over all its connections (the limit per address)`);
    }
    if (tracker.filesByIdentity.of(identity) + more > maxFilesPerIdentity) {
      throw new P2PError('TOO_MANY_FILES', `this identity would list more than ${maxFilesPerIdentity} files, over all its connections (the limit per identity)`);
    }
  }
  tracker.filesBySender.add(state.sender, more);
  tracker.filesByIdentity.add(identity, more);
  state.charged = files;
}

