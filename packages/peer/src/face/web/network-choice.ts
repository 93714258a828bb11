import { type KnownTrackers, P2PError, parseEndpoint, parseNetworkKey, quoted, TrackerBrowser } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { PeerNode } from '../../node.js';
import type { TrackerInfo } from '../../node-events.js';
import { keepJoined } from '../../settings/joined.js';

/** A tracker announced on the LAN, as the page lists it. */
export interface LanRow {
  name: string;
  network: 'open' | 'key' | 'members';
  address: string;
  id: string;
  /** new: never met; known: its name is remembered with this identity; refused: with another one. */
  state: 'new' | 'known' | 'refused';
}

export interface NetworkChoiceOptions {
  node: PeerNode;
  knownTrackers: KnownTrackers;
  /** Where a link chosen in the page is kept for the next start (`peer join`'s file). */
  joinedFile: string;
  /** Whether to look on the LAN (PEER_DISCOVER). */
  discover: boolean;
  /** The LAN's list changed (the page is told). */
  onChange: () => void;
  logger: Logger;
}

/**
 * How the page of a `peer ui` started without a tracker gets one: it watches the LAN for trackers while
 * none is chosen, and takes the person's pick, by name or as a join link, with the same checks as the
 * CLI (the name pinned to its identity, a private network's key, a members network's invite).
 */
export class NetworkChoice {
  private browser: TrackerBrowser | undefined;

  constructor(private readonly options: NetworkChoiceOptions) {
    if (options.node.hasTracker || !options.discover) return;
    this.browser = new TrackerBrowser({ onError: (error) => options.logger.warn({ err: error }, `looking on the LAN: ${error.message}`), onIgnored: (why) => options.logger.debug(why) });
    this.browser.on('up', options.onChange);
    this.browser.on('down', options.onChange);
  }

  /** Whether the LAN is being watched. */
  get looking(): boolean {
    return this.browser !== undefined;
  }

  /** The trackers the LAN announces now. */
  async lan(): Promise<LanRow[]> {
    const announced = this.browser?.trackers ?? [];
    return Promise.all(
      announced.map(async (t) => {
        const remembered = await this.options.knownTrackers.lookupName(t.name);
        const state = remembered === undefined ? 'new' : remembered === t.id ? 'known' : 'refused';
        return { name: t.name, network: t.network, address: `${t.hosts[0]}:${t.port}`, id: t.id, state } as const;
      }),
    );
  }

  /** Uses the tracker announced as `name`, as a CLI command with no tracker set would. */
  async useName(name: string): Promise<TrackerInfo> {
    const tracker = this.browser?.trackers.find((t) => t.name === name);
    if (!tracker) throw new P2PError('NO_TRACKER', `no tracker ${quoted(name)} is announced on the LAN now`, 'pick one of the list, or paste a join link');
    const remembered = await this.options.knownTrackers.lookupName(tracker.name);
    if (remembered !== undefined && remembered !== tracker.id) {
      throw new P2PError('IDENTITY_MISMATCH', `tracker ${quoted(tracker.name)} announces identity ${tracker.id}, but ${quoted(tracker.name)} was remembered as ${remembered}: this may be an impostor`, `if it was made anew, delete the line of its name from ${this.options.knownTrackers.file}`);
    }
    if (tracker.network === 'key' && !this.options.node.hasNetworkKey) {
      throw new P2PError('BAD_CONFIG', `tracker ${quoted(tracker.name)} runs a private network`, 'paste the join link its operator gave you: it holds the key');
    }
    const info = await this.connect([{ host: tracker.hosts[0]!, port: tracker.port, id: tracker.id }]);
    if (remembered === undefined) await this.options.knownTrackers.rememberName(tracker.name, tracker.id);
    return info;
  }

  /** Uses the tracker of a join link (or `HOST:PORT#IDENTITY`), and keeps it for the next start, as `peer join` does. */
  async useLink(text: string): Promise<TrackerInfo> {
    const endpoint = parseEndpoint(text.trim(), 'link');
    const info = await this.connect([endpoint], endpoint.key === undefined ? undefined : parseNetworkKey(endpoint.key));
    await keepJoined(this.options.joinedFile, { ...endpoint, id: info.id ?? endpoint.id! });
    return info;
  }

  close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    return browser?.close() ?? Promise.resolve();
  }

  /** Gives the node its tracker and connects once (redeeming an invite); a failure leaves the choice open. */
  private async connect(tracker: Parameters<PeerNode['useTracker']>[0], key?: Buffer): Promise<TrackerInfo> {
    const info = await this.options.node.chooseTracker(tracker, key);
    await this.close();
    return info;
  }
}
