import { DISCOVERY_WAIT_MS, type Endpoint, formatAddress, type KnownTrackers, P2PError, quoted, terminalSafe } from '@p2pservice/protocol';
import { endpointOf, type FoundTracker, type LanTrackers, lookOnLan } from '../network/lan-trackers.js';
import { PEER_SETTINGS } from '../settings/table.js';
import { formatTable } from './format.js';
import type { Write } from './report.js';

const { tracker: TRACKER, networkKey: KEY, discover: DISCOVER } = PEER_SETTINGS;
const GIVE_ADDRESS = `give its address: --tracker HOST:PORT, ${TRACKER.env}=HOST:PORT in .env, or \`peer join LINK\` once`;

const NETWORK_WORDS = { open: 'open network', key: 'private network', members: 'members network' } as const;

/**
 * The tracker of a command run with no tracker set: the one the LAN announces. One answering is used (its
 * name pinned to its identity on first use, said in one line); several are named, and `choose` picks one
 * where a person can be asked (the menu), else the command says how to choose; none is one line.
 */
export async function trackerFromLan(options: {
  knownTrackers: KnownTrackers;
  discover: boolean;
  /** Whether this peer has a network key (a private network's tracker is no use without). */
  hasKey: boolean;
  err: Write;
  choose?: (found: readonly FoundTracker[]) => Promise<FoundTracker | undefined>;
  onIgnored?: (why: string) => void;
}): Promise<Endpoint> {
  const { knownTrackers, err } = options;
  if (!options.discover) throw new P2PError('NO_TRACKER', `no tracker is set, and looking for one on the LAN is off (${DISCOVER.env}=off)`, GIVE_ADDRESS);
  const found = await lookOnLan(knownTrackers, { ...(options.onIgnored && { onIgnored: options.onIgnored }) });
  for (const line of refusedLines(found, knownTrackers.file)) err(line);
  let chosen = found.usable.length === 1 ? found.usable[0] : undefined;
  if (found.usable.length > 1) {
    chosen = await options.choose?.(found.usable);
    if (!chosen) {
      err(`${trackersTable(found)}`);
      throw new P2PError('SEVERAL_TRACKERS', `${found.usable.length} trackers answered on the LAN: ${found.usable.map((t) => quoted(t.name)).join(', ')}`, 'choose one: --tracker ADDRESS as listed above, or `peer join ADDRESS` to keep it');
    }
  }
  if (!chosen) {
    const silent = found.silent[0];
    if (silent) throw new P2PError('NO_TRACKER', `tracker ${quoted(silent.name)} is announced on the LAN but does not answer at ${silent.hosts.map((host) => formatAddress({ host, port: silent.port })).join(', ')}`, `is it still running? Or ${GIVE_ADDRESS}`);
    const other = found.refused.length > 0 ? 'other ' : '';
    throw new P2PError('NO_TRACKER', `no ${other}tracker answered on the LAN within ${DISCOVERY_WAIT_MS / 1000} s`, `start one with \`tracker start\` on this network, or ${GIVE_ADDRESS}`);
  }
  if (chosen.network === 'key' && !options.hasKey) {
    throw new P2PError('BAD_CONFIG', `tracker ${quoted(chosen.name)} found on the LAN runs a private network, and no ${KEY.env} is set`, 'ask its operator for a join link, then: peer join LINK');
  }
  if (!chosen.known) {
    await knownTrackers.rememberName(chosen.name, chosen.id);
    err(`peer: trusting tracker ${quoted(chosen.name)} found on the LAN on first use; its identity ${chosen.id} is remembered under that name\n`);
  }
  const endpoint = endpointOf(chosen);
  err(`peer: using tracker ${quoted(chosen.name)} at ${formatAddress(endpoint)}, found on the LAN (${NETWORK_WORDS[chosen.network]})\n`);
  return endpoint;
}

/** One line for each tracker refused because its name was remembered with another identity. */
export function refusedLines(found: LanTrackers, file: string): string[] {
  return found.refused.map(
    ({ tracker, remembered }) =>
      `peer: refused tracker ${quoted(tracker.name)} on the LAN: it announces identity ${tracker.id}, but ${quoted(tracker.name)} was remembered as ${remembered}; this may be an impostor (if that tracker was made anew, delete the line of its name from ${terminalSafe(file)})\n`,
  );
}

/** `peer trackers`: every tracker announced, how to reach it, and whether it would be used. */
export function trackersTable(found: LanTrackers): string {
  const rows = trackerRows(found);
  if (rows.length === 0) return 'No tracker answered on the LAN.\n';
  return `${formatTable(
    ['NAME', 'NETWORK', 'ADDRESS', 'STATE'],
    rows.map((row) => [terminalSafe(row.name), row.network, row.id ? `${row.address}#${row.id}` : row.address, row.state]),
  )}\n`;
}

export interface TrackerRow {
  name: string;
  network: 'open' | 'key' | 'members';
  /** HOST:PORT where it answered (or the first address it announced). */
  address: string;
  id: string;
  /** new: never met; known: its name is remembered with this identity; silent: does not answer; refused: its name is remembered with another identity. */
  state: 'new' | 'known' | 'silent' | 'refused';
}

export function trackerRows(found: LanTrackers): TrackerRow[] {
  return [
    ...found.usable.map((t) => ({ name: t.name, network: t.network, address: formatAddress(endpointOf(t)), id: t.id, state: t.known ? ('known' as const) : ('new' as const) })),
    ...found.silent.map((t) => ({ name: t.name, network: t.network, address: formatAddress({ host: t.hosts[0]!, port: t.port }), id: t.id, state: 'silent' as const })),
    ...found.refused.map(({ tracker: t }) => ({ name: t.name, network: t.network, address: formatAddress({ host: t.hosts[0]!, port: t.port }), id: t.id, state: 'refused' as const })),
  ];
}
