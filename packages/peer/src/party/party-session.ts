import { HEARTBEAT_INTERVAL_MS, PEER_TIMEOUT_MS, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, type TrackerSession } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { PartFile } from '../download/part-file.js';
import { AGENTS } from '../network/agents.js';
import { type NetworkAccess, openTracker } from '../network/tracker-access.js';
import { FileServer, peerServerOptions } from '../share/file-server.js';
import { ShareIndex } from '../share/share-index.js';
import { sleep } from '../util/sleep.js';
import { type OfferedPart, PartShelf } from './part-shelf.js';

export interface PartyOptions extends NetworkAccess {
  /** Address and port the party server listens on (port 0: any free one). */
  host?: string;
  port: number;
  logger: Logger;
  maxUploads?: number;
  maxUploadRate?: number;
  /** Keep serving a finished download until the node closes (`peer get --seed`), instead of withdrawing it. */
  seed?: boolean;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
}

/** A download offered to others; `end` says how the download ended (the path it was committed to, if it was). */
export interface PartOffer {
  /** True when the tracker lists it (a tracker without feature `partial`, or a bound crossed: false). */
  readonly listed: boolean;
  readonly offered: OfferedPart;
  end(committedTo: string | undefined): Promise<void>;
}

/**
 * A downloading peer's part in a LAN party: a file server that serves the verified pieces of what the peer
 * is downloading, and a tracker connection that offers each download (feature `partial`), so that others
 * who want the same content fetch from it too. The offers end with the download, or with the connection.
 */
export class PartySession {
  private tracker: TrackerSession | undefined;
  private connecting: Promise<TrackerSession | undefined> | undefined;
  /** False once a tracker said it does not know feature `partial`: nothing is offered then. */
  private trackerOffers = true;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();
  private endDoor: () => void = () => undefined;
  /** Finished downloads served until the node closes (`seed`), by sha256, with their names on the network. */
  private readonly seeds = new Map<string, { name: string; offered: OfferedPart }>();

  private constructor(
    private readonly options: PartyOptions,
    readonly server: FileServer,
    readonly shelf: PartShelf,
  ) {}

  static async start(options: PartyOptions): Promise<PartySession> {
    const shelf = new PartShelf();
    const server = await FileServer.start({
      ...(options.host !== undefined && { host: options.host }),
      port: options.port,
      // Nothing of the disk is shared: only the parts on the shelf are served.
      index: new ShareIndex('', [], []),
      logger: options.logger,
      ...peerServerOptions(options),
      partials: shelf,
    });
    const session = new PartySession(options, server, shelf);
    // Like a share's port, this one is where holders connect back to the peer's own downloads.
    session.endDoor = options.connectBack?.useSharePort(server.address.port) ?? (() => undefined);
    return session;
  }

  get port(): number {
    return this.server.address.port;
  }

  /**
   * Serves the verified pieces of `part` (shared on the network as `name`) and offers it to the tracker.
   * Never throws for the tracker's sake.
   */
  async offer(part: PartFile, layer: readonly Buffer[], name: string): Promise<PartOffer> {
    const offered = await this.shelf.put(part, layer);
    const listed = await this.announce(offered);
    return {
      listed,
      offered,
      end: async (committedTo) => {
        if (committedTo !== undefined && this.options.seed) {
          offered.committed(committedTo);
          this.seeds.set(offered.sha256, { name, offered });
          await this.registerSeeds();
          if (listed) await this.tracker?.withdraw(offered.sha256).catch(() => undefined);
          return;
        }
        this.shelf.remove(offered);
        if (listed) await this.tracker?.withdraw(offered.sha256).catch(() => undefined);
      },
    };
  }

  /**
   * Lists the finished downloads a seeding peer serves as a share of its own, under the names they have
   * on the network: found by name like any shared file, by peers of every version.
   */
  private async registerSeeds(): Promise<void> {
    const tracker = await this.connected();
    if (!tracker || this.seeds.size === 0) return;
    const files = [...this.seeds.values()].map(({ name, offered }) => ({ name, size: offered.size, sha256: offered.sha256, root: offered.root }));
    await tracker.register(this.port, files).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'finished download not listed as shared');
    });
  }

  private async announce(offered: OfferedPart): Promise<boolean> {
    const tracker = await this.connected();
    if (!tracker) return false;
    try {
      const { firewalled } = await tracker.offer(this.port, offered);
      if (firewalled) this.options.logger.debug({ firewalled }, 'offered through connect-back');
      return true;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'download not offered to others');
      return false;
    }
  }

  /** The tracker connection the offers live on, opened at the first offer and again after a loss. */
  private connected(): Promise<TrackerSession | undefined> {
    if (this.tracker && !this.tracker.connection.isClosed) return Promise.resolve(this.tracker);
    if (!this.trackerOffers || this.stopped.signal.aborted) return Promise.resolve(undefined);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<TrackerSession | undefined> {
    let session: TrackerSession;
    try {
      session = await openTracker(this.options, AGENTS.party);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'no tracker to offer downloads to');
      return undefined;
    }
    if (!session.supports('partial')) {
      this.trackerOffers = false;
      await session.close();
      return undefined;
    }
    if (session.supports('connect_back')) session.onConnectNotice((notice) => void this.server.connectBack(notice));
    this.tracker = session;
    const timeout = session.welcome?.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void session.ping(timeout).catch(() => session.connection.destroy()), session.welcome?.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
    void session.whenClosed.then(() => this.lost(session));
    return session;
  }

  /** The tracker connection ended: while downloads are offered, connect again and offer them again. */
  private async lost(session: TrackerSession): Promise<void> {
    if (this.tracker !== session) return;
    clearInterval(this.heartbeat);
    const cap = this.options.reconnectMaxDelayMs ?? RECONNECT_MAX_DELAY_MS;
    const base = this.options.reconnectBaseDelayMs ?? RECONNECT_BASE_DELAY_MS;
    for (let attempt = 0; !this.stopped.signal.aborted && this.shelf.size > 0; attempt++) {
      await sleep(Math.round(Math.random() * Math.min(cap, base * 2 ** attempt)), this.stopped.signal);
      const again = await this.connected();
      if (!again) continue;
      for (const offered of this.shelf.all()) {
        if (!this.seeds.has(offered.sha256)) await again.offer(this.port, offered).catch(() => undefined);
      }
      await this.registerSeeds();
      return;
    }
  }

  /** Ends every offer and stops serving. */
  async close(): Promise<void> {
    this.stopped.abort();
    clearInterval(this.heartbeat);
    await this.tracker?.close().catch(() => undefined);
    this.endDoor();
    await this.server.close();
    for (const offered of this.shelf.all()) this.shelf.remove(offered);
  }
}
