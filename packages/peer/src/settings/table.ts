import { MAX_FILES_PER_SHARE, parseNetworkKey, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, STALL_TIMEOUT_MS } from '@p2pservice/protocol';
import { defineSettings, loadSettings, setting, type SettingSources, type SettingsOf, settingsOf } from '@p2pservice/cli';
import { DEFAULT_MAX_SOURCES, DEFAULT_MAX_UPLOADS, DEFAULT_UI_PORT, RESCAN_INTERVAL_MS } from './defaults.js';

/*
 * The peer's settings, each declared once: its environment name, how its text is read, its default,
 * what it does, and its flag. The node's settings are keyed by the PeerNode options they feed, so they go
 * to the node as they are. `--help`, the commands' flags, and the tests that check `.env.example` and the
 * README all read these tables. A new setting is one entry here plus the line that reads it.
 */

const seconds = (ms: number) => String(ms / 1000);

/** Settings of the PeerNode, passed to it as they are. */
export const NODE_SETTINGS = defineSettings({
  port: {
    env: 'PEER_PORT',
    schema: setting.port(),
    default: '0',
    help: 'port shares listen on, and firewalled holders connect back to; 0 = any free one',
    flag: '<port>',
  },
  host: { env: 'PEER_HOST', schema: setting.optionalText(), default: '', help: 'address shares listen on; empty = every address, IPv6 and IPv4' },
  maxUploads: { env: 'PEER_MAX_UPLOADS', schema: setting.positiveInt(), default: String(DEFAULT_MAX_UPLOADS), help: 'uploads served at once; more wait in line' },
  maxUploadRate: {
    env: 'PEER_MAX_UPLOAD_RATE',
    schema: setting.rate(),
    default: '0',
    help: 'upload bytes per second to everyone together (50M, 800k, 1.5Gi); 0 = no limit',
  },
  serveDownloads: {
    env: 'PEER_SERVE_DOWNLOADS',
    schema: setting.onOff(),
    default: 'on',
    help: 'serve the verified pieces of a download to others downloading the same file (a LAN party); off = only download',
  },
  maxSources: { env: 'PEER_MAX_SOURCES', schema: setting.positiveInt(), default: String(DEFAULT_MAX_SOURCES), help: 'holders one download takes pieces from at once' },
  maxFiles: { env: 'MAX_FILES_PER_SHARE', schema: setting.positiveInt(), default: String(MAX_FILES_PER_SHARE), help: 'most files one share may hold' },
  stallTimeoutMs: {
    env: 'STALL_TIMEOUT',
    schema: setting.seconds(),
    default: seconds(STALL_TIMEOUT_MS),
    help: 'seconds without a byte (or a connect-back) before leaving a holder',
  },
  reconnectBaseDelayMs: {
    env: 'RECONNECT_BASE_DELAY',
    schema: setting.seconds(),
    default: seconds(RECONNECT_BASE_DELAY_MS),
    help: 'seconds: first backoff step when the tracker is lost',
  },
  reconnectMaxDelayMs: { env: 'RECONNECT_MAX_DELAY', schema: setting.seconds(), default: seconds(RECONNECT_MAX_DELAY_MS), help: 'seconds: longest backoff step' },
  rescanIntervalMs: { env: 'RESCAN_INTERVAL', schema: setting.seconds(), default: seconds(RESCAN_INTERVAL_MS), help: 'seconds between full rescans of a shared folder' },
  networkKey: {
    env: 'NETWORK_KEY',
    schema: setting.optionalText().transform((text) => (text === undefined ? undefined : parseNetworkKey(text))),
    default: '',
    help: "a private network's key; empty = open network (keep .env at chmod 600)",
  },
});

export const PEER_SETTINGS = defineSettings({
  tracker: {
    env: 'PEER_TRACKER',
    schema: setting.optionalText(),
    default: '',
    help: 'tracker HOST:PORT (or HOST:PORT#IDENTITY to pin it, or a join link); several, comma-separated; empty = the one announced on the LAN',
    flag: '<address>',
  },
  discover: {
    env: 'PEER_DISCOVER',
    schema: setting.onOff(),
    default: 'on',
    help: 'with no tracker set, look for one announced on the LAN (DNS-SD); off = never send a query there',
  },
  ...NODE_SETTINGS,
  wantDir: {
    env: 'PEER_WANT_DIR',
    schema: setting.optionalText(),
    default: '',
    help: 'folder where a running `peer share` or `peer ui` saves new matches of the wishlist (`peer want`); empty = the wishlist fetches nothing',
  },
  wantIntervalMs: {
    env: 'PEER_WANT_INTERVAL',
    schema: setting.seconds(),
    default: '60',
    help: 'seconds between two looks at the wishlist: with a tracker that watches it (and tells of new matches at once), it is read again for changes and searched for every tenth time; else one search per want each time, spread over it',
  },
  uiPort: { env: 'PEER_UI_PORT', schema: setting.port(), default: String(DEFAULT_UI_PORT), help: "port of `peer ui`'s page on 127.0.0.1; 0 = any free one", flag: '<port>' },
  logLevel: { env: 'LOG_LEVEL', schema: setting.logLevel(), default: 'info', help: 'fatal, error, warn, info, debug (with stacks), trace or silent' },
  logFormat: { env: 'LOG_FORMAT', schema: setting.logFormat(), default: '', help: 'json or pretty; empty = pretty on a terminal, JSON otherwise' },
});

export type PeerSettings = SettingsOf<typeof PEER_SETTINGS>;

export const loadPeerSettings = (sources: SettingSources): PeerSettings => loadSettings(PEER_SETTINGS, sources);

/** The node's settings among the peer's. */
export const nodeSettingsOf = (settings: PeerSettings) => settingsOf(NODE_SETTINGS, settings);
