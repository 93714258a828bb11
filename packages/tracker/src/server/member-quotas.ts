import { type Feature, formatMs, P2PError, type WireErrorCode } from '@p2pservice/protocol';
import type { TrackerLimits } from '../settings/defaults.js';
import type { RequestWindows } from './request-windows.js';
import type { PeerState } from './peer-state.js';

/*
 * Quotas per member (README#members): what one member may take of the tracker, whatever the others do.
 * A member is its identity; a client without one (listing, downloading on an open or key network) is its
 * sender, an address or IPv6 /64. Each quota is a setting, and crossing it is QUOTA_EXCEEDED for a
 * client that named feature `quotas` (an older one gets the code it knows).
 */

/** Who a quota counts a connection under: its identity, or its sender. */
export const memberOf = (state: Pick<PeerState, 'remote' | 'sender'>): string => state.remote.id ?? state.sender;

/** The refusal of a quota, in the code the client's features allow. */
export function quotaError(features: ReadonlySet<Feature>, fallback: WireErrorCode, message: string, hint?: string): P2PError {
  return new P2PError(features.has('quotas') ? 'QUOTA_EXCEEDED' : fallback, message, hint);
}

/** Counts a search against its member's quota a minute; QUOTA_EXCEEDED (that search only) beyond it. */
export function takeSearch(windows: RequestWindows, limits: Pick<TrackerLimits, 'maxSearchesPerMinute'>, state: PeerState): void {
  const max = limits.maxSearchesPerMinute;
  if (windows.take(memberOf(state)) <= max) return;
  const who = state.remote.id ? 'this identity' : state.sender;
  throw quotaError(state.features, 'RATE_LIMITED', `${who} searched more than ${max} times in ${formatMs(60_000)} (its quota)`, 'wait a moment before searching again');
}

/** The bytes of names a share change would leave its member with, refused beyond the quota (nothing is written then). */
export function chargeNameBytes(byMember: Map<string, number>, limits: Pick<TrackerLimits, 'maxNameBytesPerMember'>, state: PeerState, bytes: number, check = true): void {
  const member = memberOf(state);
  const more = bytes - state.nameBytes;
  const total = (byMember.get(member) ?? 0) + more;
  if (check && more > 0 && total > limits.maxNameBytesPerMember) {
    const who = state.remote.id ? 'this identity' : state.sender;
    throw quotaError(state.features, 'TOO_MANY_FILES', `${who} would list ${total} bytes of file names, over its quota of ${limits.maxNameBytesPerMember}`);
  }
  if (total > 0) byMember.set(member, total);
  else byMember.delete(member);
  state.nameBytes = bytes;
}

/** The bytes of these names, as the store keeps them (UTF-8). */
export const nameBytesOf = (names: Iterable<string>): number => {
  let bytes = 0;
  for (const name of names) bytes += Buffer.byteLength(name);
  return bytes;
};
