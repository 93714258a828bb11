import { MAX_FILES_PER_SHARE, MAX_FRAME_BYTES, P2PError, parseNetworkKey } from '@p2pservice/protocol';
import { z } from 'zod';
import { defineSettings, loadSettings, setting, type SettingSources, type SettingsOf, settingsOf } from '@p2pservice/cli';
import { DEFAULT_HTTP_HOST, DEFAULT_PG_POOL, DEFAULT_TRACKER_DB, DEFAULT_TRACKER_HOST, DEFAULT_TRACKER_LIMITS, DEFAULT_TRACKER_PORT } from './defaults.js';

/*
 * The tracker's settings, each declared once: its environment name, how its text is read, its default,
 * what it does, and its flag. Keys are the names of the options they feed, so the loaded settings go to
 * the library as they are. `--help`, `tracker start`'s flags, and the tests that check `.env.example` and
 * the README all read this table. A new setting is one entry here plus the line that reads it.
 */

const seconds = (ms: number) => String(ms / 1000);
const { maxFilesPerAddress, maxFilesPerIdentity, maxSearchesPerAddress, maxConnections, maxConnectionsPerAddress } = DEFAULT_TRACKER_LIMITS;

/** The settings that are limits of the server (TrackerLimits), passed to it as they are. */
export const LIMIT_SETTINGS = defineSettings({
  maxFrameBytes: { env: 'MAX_FRAME_BYTES', schema: setting.positiveInt(), default: String(MAX_FRAME_BYTES), help: 'largest protocol frame accepted' },
  maxFilesPerShare: { env: 'MAX_FILES_PER_SHARE', schema: setting.positiveInt(), default: String(MAX_FILES_PER_SHARE), help: 'most files one peer may share' },
  maxConnections: { env: 'TRACKER_MAX_CONNECTIONS', schema: setting.positiveInt(), default: String(maxConnections), help: 'most connections at once' },
  maxConnectionsPerAddress: {
    env: 'TRACKER_MAX_CONNECTIONS_PER_ADDRESS',
    schema: setting.positiveInt(),
    default: String(maxConnectionsPerAddress),
    help: 'most connections at once from one address (IPv6: one /64)',
  },
  maxFilesPerAddress: {
    env: 'TRACKER_MAX_FILES_PER_ADDRESS',
    schema: setting.positiveInt(),
    default: String(maxFilesPerAddress),
    help: 'most files listed from one address over all its connections',
  },
  maxFilesPerIdentity: {
    env: 'TRACKER_MAX_FILES_PER_IDENTITY',
    schema: setting.positiveInt(),
    default: String(maxFilesPerIdentity),
    help: 'most files listed under one identity over all its connections',
  },
  maxSearchesPerAddress: {
    env: 'TRACKER_MAX_SEARCHES_PER_ADDRESS',
    schema: setting.positiveInt(),
    default: String(maxSearchesPerAddress),
    help: 'searches one address runs at once; more wait their turn',
  },
  maxConnectionsPerMember: {
    env: 'TRACKER_MAX_CONNECTIONS_PER_MEMBER',
    schema: setting.positiveInt(),
    default: String(DEFAULT_TRACKER_LIMITS.maxConnectionsPerMember),
    help: 'most connections at once under one identity, from any address',
  },
  maxSearchesPerMinute: {
    env: 'TRACKER_MAX_SEARCHES_PER_MINUTE',
    schema: setting.positiveInt(),
    default: String(DEFAULT_TRACKER_LIMITS.maxSearchesPerMinute),
    help: 'searches one member (an identity, or an address without one) may run a minute',
  },
  maxConnectRequestsPerMember: {
    env: 'TRACKER_MAX_CONNECT_REQUESTS_PER_MEMBER',
    schema: setting.positiveInt(),
    default: String(DEFAULT_TRACKER_LIMITS.maxConnectRequestsPerMember),
    help: 'connect-backs one member may ask for a minute, over all its connections',
  },
  maxNameBytesPerMember: {
    env: 'TRACKER_MAX_NAME_BYTES_PER_MEMBER',
    schema: setting.positiveInt(),
    default: String(DEFAULT_TRACKER_LIMITS.maxNameBytesPerMember),
    help: 'bytes of file names one member may list, over all its connections',
  },
  heartbeatMs: { env: 'HEARTBEAT_INTERVAL', schema: setting.seconds(), default: seconds(DEFAULT_TRACKER_LIMITS.heartbeatMs), help: 'seconds between the pings of sharing peers' },
  peerTimeoutMs: {
    env: 'PEER_TIMEOUT',
    schema: setting.seconds(),
    default: seconds(DEFAULT_TRACKER_LIMITS.peerTimeoutMs),
    help: 'seconds of silence before a peer and its files are dropped',
  },
  searchBudgetMs: { env: 'SEARCH_BUDGET', schema: setting.seconds(), default: seconds(DEFAULT_TRACKER_LIMITS.searchBudgetMs), help: 'seconds one search may run' },
  ticketLifetimeMs: {
    env: 'TICKET_LIFETIME',
    schema: setting.seconds(),
    default: seconds(DEFAULT_TRACKER_LIMITS.ticketLifetimeMs),
    help: "seconds a member's ticket for holders lasts: the longest a revoked member can still download",
  },
  leaseMs: { env: 'TRACKER_LEASE', schema: setting.seconds(), default: seconds(DEFAULT_TRACKER_LIMITS.leaseMs), help: "seconds of the tracker's lease on a shared database" },
});

export const TRACKER_SETTINGS = defineSettings({
  host: {
    env: 'TRACKER_HOST',
    schema: setting.text(),
    default: DEFAULT_TRACKER_HOST,
    help: 'address to listen on; 0.0.0.0 = every IPv4 address, :: = IPv6 and IPv4',
    flag: '<host>',
  },
  port: { env: 'TRACKER_PORT', schema: setting.port(), default: String(DEFAULT_TRACKER_PORT), help: 'TCP port peers connect to; 0 = any free one', flag: '<port>' },
  db: {
    env: 'TRACKER_DB',
    schema: setting.text(),
    default: DEFAULT_TRACKER_DB,
    help: 'SQLite file, or a postgres:// URL that several trackers share',
    flag: '<file|url>',
  },
  logLevel: { env: 'LOG_LEVEL', schema: setting.logLevel(), default: 'info', help: 'fatal, error, warn, info, debug (with stacks), trace or silent' },
  logFormat: { env: 'LOG_FORMAT', schema: setting.logFormat(), default: '', help: 'json or pretty; empty = pretty on a terminal, JSON otherwise' },
  ...LIMIT_SETTINGS,
  poolSize: { env: 'TRACKER_DB_POOL', schema: setting.positiveInt(), default: String(DEFAULT_PG_POOL.poolSize), help: 'connections to a PostgreSQL TRACKER_DB' },
  networkKey: {
    env: 'NETWORK_KEY',
    schema: setting.optionalText().transform((text) => (text === undefined ? undefined : parseNetworkKey(text))),
    default: '',
    help: "a private network's key; empty = open network (keep .env at chmod 600)",
  },
  network: {
    env: 'TRACKER_NETWORK',
    schema: setting.optionalText().pipe(z.enum(['open', 'key', 'members']).optional()),
    default: '',
    help: 'open, key or members; empty = key when NETWORK_KEY is set, else open',
    flag: '<kind>',
  },
  announce: {
    env: 'TRACKER_ANNOUNCE',
    schema: setting.onOff(),
    default: 'on',
    help: 'announce the tracker on the LAN (DNS-SD), only where it listens, so that peers find it with no address; off = not',
  },
  name: { env: 'TRACKER_NAME', schema: setting.optionalText(), default: '', help: "the network's name on the LAN; empty = this machine's name", flag: '<name>' },
  httpPort: { env: 'TRACKER_HTTP_PORT', schema: setting.optionalPort(), default: '', help: 'port of /status, /metrics and /healthz; empty = off', flag: '<port>' },
  httpHost: { env: 'TRACKER_HTTP_HOST', schema: setting.text(), default: DEFAULT_HTTP_HOST, help: 'address of that HTTP listener', flag: '<host>' },
});

export type TrackerSettings = SettingsOf<typeof TRACKER_SETTINGS>;

/** The settings, checked one by one and against each other. */
export function loadTrackerSettings(sources: SettingSources): TrackerSettings {
  const settings = loadSettings(TRACKER_SETTINGS, sources);
  const { heartbeatMs, peerTimeoutMs, leaseMs } = TRACKER_SETTINGS;
  if (settings.peerTimeoutMs <= settings.heartbeatMs) {
    throw new P2PError(
      'BAD_CONFIG',
      `${peerTimeoutMs.env} (${settings.peerTimeoutMs / 1000} s) must be longer than ${heartbeatMs.env} (${settings.heartbeatMs / 1000} s)`,
      'three heartbeat intervals is usual',
    );
  }
  const { network, networkKey } = TRACKER_SETTINGS;
  if (settings.network === 'key' && settings.networkKey === undefined) {
    throw new P2PError('BAD_CONFIG', `${network.env}=key needs ${networkKey.env}`, `make one with \`tracker start --new-key\`, or choose ${network.env}=members or open`);
  }
  if (settings.network === 'open' && settings.networkKey !== undefined) {
    throw new P2PError('BAD_CONFIG', `${network.env}=open but ${networkKey.env} is set`, `remove ${networkKey.env}, or choose ${network.env}=key or members`);
  }
  if (settings.leaseMs < 1_000) {
    throw new P2PError('BAD_CONFIG', `${leaseMs.env} (${settings.leaseMs / 1000} s) is too short to be renewed in time`, 'keep the default of 15 s, or at least 1 s');
  }
  return settings;
}

/** The kind of network the settings make: TRACKER_NETWORK, or key when NETWORK_KEY is set, else open. */
export const networkKindOf = (settings: Partial<Pick<TrackerSettings, 'network' | 'networkKey'>>) => settings.network ?? (settings.networkKey ? 'key' : 'open');

/** The server's limits among the settings. */
export const limitsOf = (settings: TrackerSettings) => settingsOf(LIMIT_SETTINGS, settings);
