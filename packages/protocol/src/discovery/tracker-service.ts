import { parseIdentity } from '../identity/identity-id.js';
import { PROTOCOL_VERSION } from '../core/constants.js';

/**
 * How a tracker is announced on a LAN with DNS-SD over multicast DNS (RFC 6762, 6763), as the spec's
 * "Finding a tracker on the LAN" says: the service `_p2pservice._tcp.local`, its instance named after
 * the network (TRACKER_NAME), the SRV record's port the tracker's, and a TXT record naming who must
 * answer there and what kind of network it is.
 */
export const SERVICE_TYPE = 'p2pservice';

/** The network kinds a tracker announces: what a peer needs to get in. */
export type AnnouncedNetwork = 'open' | 'key' | 'members';

/** A tracker found on the LAN. */
export interface AnnouncedTracker {
  /** The instance name: the network's name, TRACKER_NAME. */
  name: string;
  /** The identity the tracker must prove when connected to: the TXT record's `id`. */
  id: string;
  network: AnnouncedNetwork;
  port: number;
  /** Where to reach it, best first: the address the answer came from, then the addresses it listed. */
  hosts: string[];
  /** The protocol version it speaks (TXT `v`). */
  version: number;
}

/** The TXT record of an announcement. */
export function trackerTxt(id: string, network: AnnouncedNetwork): Record<string, string> {
  return { v: String(PROTOCOL_VERSION), id, net: network };
}

/**
 * Reads an answer into an AnnouncedTracker, or says why it is not one of ours: anyone on the LAN can
 * answer, so nothing in it is taken on trust except as a candidate whose identity the TLS handshake
 * then checks.
 */
export function readAnnouncement(answer: {
  name?: unknown;
  port?: unknown;
  txt?: unknown;
  addresses?: unknown;
  referer?: { address?: unknown } | undefined;
}): AnnouncedTracker | string {
  const txt = (typeof answer.txt === 'object' && answer.txt !== null ? answer.txt : {}) as Record<string, unknown>;
  const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : undefined);
  const name = text(answer.name);
  if (name === undefined || name === '') return 'it has no name';
  const port = Number(answer.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `its port ${String(answer.port)} is not one`;
  let id: string;
  try {
    id = parseIdentity(text(txt.id) ?? '', 'its TXT id');
  } catch (error) {
    return (error as Error).message;
  }
  const network = text(txt.net);
  if (network !== 'open' && network !== 'key' && network !== 'members') return `its network kind ${JSON.stringify(String(network).slice(0, 20))} is unknown`;
  const version = Number(text(txt.v) ?? NaN);
  if (!Number.isInteger(version)) return 'it names no protocol version';
  const listed = Array.isArray(answer.addresses) ? answer.addresses.filter((a): a is string => typeof a === 'string') : [];
  const from = typeof answer.referer?.address === 'string' ? [answer.referer.address] : [];
  const hosts = [...new Set([...from, ...listed.filter((a) => !a.toLowerCase().startsWith('fe80:'))])];
  if (hosts.length === 0) return 'it names no address';
  return { name: name.slice(0, 63), id, network, port, hosts, version };
}
