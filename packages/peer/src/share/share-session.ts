import {
  formatAddress,
  HEARTBEAT_INTERVAL_MS,
  MAX_FILES_PER_SHARE,
  P2PError,
  RemoteError,
  PEER_TIMEOUT_MS,
  RECONNECT_BASE_DELAY_MS,
  RECONNECT_MAX_DELAY_MS,
  type TrackerSession,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { AGENTS } from '../network/agents.js';
import { sleep } from '../util/sleep.js';
import { type NetworkAccess, trackersOf, withTracker } from '../network/tracker-access.js';
import { FileServer, peerServerOptions } from './file-server.js';
import { type IndexProgress, indexFolder } from './index-folder.js';
import { type FolderDelta, LiveFolder } from './live-folder.js';
import type { IndexedFile, ShareIndex } from './share-index.js';

export interface ShareOptions extends NetworkAccess {
  dir: string;
  /** Address other peers connect to; absent: every address, IPv6 and IPv4. */
  host?: string;
  /** Port other peers connect to (0: a random free one). */
  port: number;
  logger: Logger;
  maxUploads?: number;
  /** Most bytes per second uploaded to all downloaders together (PEER_MAX_UPLOAD_RATE); unlimited when absent. */
  maxUploadRate?: number;
  maxFiles?: number;
  /** Hash cache folder (the CLI passes `defaultCacheDir(env)`); none by default. */
  cacheDir?: string | null;
  /** The program's own files and folders (.env, config, state, cache): never shared, even inside the folder. */
  privatePaths?: readonly string[];
  /** Watch the folder and send changes to the tracker (default true). */
  watch?: boolean;
  rescanIntervalMs?: number;
  stableMs?: number;
  debounceMs?: number;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  onIndexProgress?: (progress: IndexProgress) => void;
  onWarning?: (line: string) => void;
  onStatus?: (status: ShareStatus) => void;
}

/** What a sharing session tells its user about its tracker connection and its folder. */
export type ShareStatus =
  /** Attempt 0: the connection was just lost; 1, 2, …: reconnecting failed that many times. */
  | { kind: 'tracker-lost'; tracker: string; attempt: number; retryInMs: number; reason: string; refused: boolean }
  /** `previous`: the tracker that was lost; another one when the share moved to another tracker of the network. */
  | { kind: 'tracker-back'; tracker: string; previous: string; files: number }
  | { kind: 'folder-changed'; added: number; removed: number; files: number };

/**
 * Sharing one folder: its index, the file server other peers download from, the folder watcher, and the
 * long-lived tracker connection whose life is the share's life on the network.
 *
 * Tracker states: registered → (connection lost) → reconnecting → registered … ; stop → closed from any.
 * While reconnecting, uploads in progress go on; every reconnection registers the whole current share.
 * A ping every heartbeat interval (the tracker says how often in its welcome) keeps the share listed and
 * finds a dead tracker that never closed the connection.
 */
export class ShareSession {
  private stopping: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  private tracker: TrackerSession;
  private heartbeat: NodeJS.Timeout | undefined;
  private live: LiveFolder | undefined;
  private supervisor: Promise<void> = Promise.resolve();
  server!: FileServer;
  /** Ends this port's part as the connect-back door (the share stops). */
  private endDoor: () => void = () => undefined;

  private constructor(
    readonly index: ShareIndex,
    private readonly options: ShareOptions,
    tracker: TrackerSession,
    /** Which of the network's trackers holds the share now. */
    private trackerIndex: number,
  ) {
    this.tracker = tracker;
  }

  static async start(options: ShareOptions): Promise<ShareSession> {
    // Options left unset (undefined) are the defaults of each part.
    const { maxFiles, cacheDir, onWarning, privatePaths } = options;
    const index = await indexFolder(options.dir, { maxFiles, cacheDir, onProgress: options.onIndexProgress, onWarning, privatePaths });
    let session: ShareSession | undefined;
    const server = await FileServer.start({
      host: options.host,
      port: options.port,
      index,
      logger: options.logger,
      onStale: (file) => session?.rehash(file),
      ...peerServerOptions(options),
    });
    // This port is where holders connect back to the peer's own downloads while it serves: a user who
    // opened one port (PEER_PORT) for sharing needs no other to download from firewalled holders.
    const endDoor = options.connectBack?.useSharePort(server.address.port) ?? (() => undefined);
    let tracker: TrackerSession | undefined;
    try {
      // The first registration must work with one of the trackers: a wrong address is better reported
      // than retried forever.
      const registered = await ShareSession.register(options, server, index);
      tracker = registered.session;
      session = new ShareSession(index, options, tracker, registered.index);
      session.server = server;
      session.endDoor = endDoor;
      if (options.watch ?? true) {
        session.live = await LiveFolder.start({
          index,
          cache: index.cache,
          maxFiles: maxFiles ?? MAX_FILES_PER_SHARE,
          logger: options.logger,
          onDelta: (delta) => session!.announce(delta),
          onWarning,
          rescanIntervalMs: options.rescanIntervalMs,
          stableMs: options.stableMs,
          debounceMs: options.debounceMs,
        });
      }
    } catch (error) {
      endDoor();
      await tracker?.close();
      await server.close();
      throw error;
    }
    session.startHeartbeat();
    session.supervisor = session.supervise();
    options.logger.debug({ tracker: session.trackerLabel, files: index.size }, 'share registered');
    return session;
  }

  /**
   * Connects to one of the trackers, from `first` on, and registers the whole share with it. The tracker
   * may relay connect requests on this connection from then on (when it lists the share as firewalled).
   */
  private static register(options: ShareOptions, server: FileServer, index: ShareIndex, first?: number): Promise<{ session: TrackerSession; index: number }> {
    return withTracker(
      options,
      AGENTS.share,
      async (session, at) => {
        try {
          if (session.supports('connect_back')) session.onConnectNotice((notice) => void server.connectBack(notice));
          await session.register(server.address.port, index.entries());
        } catch (error) {
          session.connection.destroy();
          throw error;
        }
        return { session, index: at };
      },
      first,
    );
  }

  get port(): number {
    return this.server.address.port;
  }

  /** The tracker that holds the share now (or last did), as HOST:PORT. */
  get trackerLabel(): string {
    return formatAddress(trackersOf(this.options)[this.trackerIndex]!);
  }

  /** True while the share is registered with a live tracker connection (not reconnecting). */
  get connected(): boolean {
    return !this.tracker.connection.isClosed;
  }

  /** The identity the tracker proved, and whether its network is private. */
  get trackerId(): string | undefined {
    return this.tracker.serverId;
  }

  /** Who may come into the network, as the tracker's welcome said: open, private (a key) or members. */
  get network(): 'open' | 'private' | 'members' {
    return this.tracker.welcome?.network ?? 'open';
  }

  /** On a members network, the name this peer is a member under. */
  get memberName(): string | undefined {
    return this.tracker.welcome?.member?.name;
  }

  /** Why the tracker could not reach this share's port, when it lists it as firewalled. */
  get firewalled(): string | undefined {
    return this.tracker.firewalled;
  }

  /** Waits until the folder changes noticed so far have reached the tracker. */
  async settled(): Promise<void> {
    await this.live?.settled();
    await this.tracker.idle();
  }

  /** Says goodbye to the tracker (its rows go at once), stops watching and serving. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.heartbeat);
      this.stopped.abort();
      await this.live?.close();
      await this.tracker.close();
      await this.supervisor;
      this.endDoor();
      await this.server.close();
      // The cache was written when the folder was indexed; only later changes need writing again.
      if (this.index.changes > 0) await this.index.cache?.save(this.index.files);
    })();
    return this.stopping;
  }

  /** A file no longer matches its index entry: the folder reconciliation re-hashes and re-announces it. */
  private rehash(file: IndexedFile): void {
    this.live?.mark(file.name, 0);
  }

  /** Sends a folder change to the tracker. If the connection is down, the next registration carries it. */
  private async announce(delta: FolderDelta): Promise<void> {
    const files = this.index.size;
    this.options.onStatus?.({ kind: 'folder-changed', added: delta.added.length, removed: delta.removed.length, files });
    const added = delta.added.map(({ name, size, sha256, root }) => ({ name, size, sha256, root }));
    await this.tracker.update(added, delta.removed).catch((error) => {
      this.options.logger.debug({ err: error }, 'update not delivered; the next registration will carry it');
    });
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    const interval = this.tracker.welcome?.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    const timeout = this.tracker.welcome?.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    const tracker = this.tracker;
    this.heartbeat = setInterval(() => {
      // A tracker that does not answer within its own peer timeout is gone, even if TCP has not noticed.
      void tracker.ping(timeout).catch(() => tracker.connection.destroy());
    }, interval);
    this.heartbeat.unref();
  }

  /** Waits for the tracker connection to end, then reconnects with backoff until stopped. */
  private async supervise(): Promise<void> {
    const base = this.options.reconnectBaseDelayMs ?? RECONNECT_BASE_DELAY_MS;
    const cap = this.options.reconnectMaxDelayMs ?? RECONNECT_MAX_DELAY_MS;
    const signal = this.stopped.signal;
    for (;;) {
      await this.tracker.whenClosed;
      if (signal.aborted) return;
      clearInterval(this.heartbeat);
      // The tracker may have said why it closed the connection (a ban, a revocation): that is not an outage.
      const why = this.tracker.endedBy;
      const told = why instanceof RemoteError && (why.code === 'BANNED' || why.code === 'ACCESS_DENIED');
      let reason = told ? `tracker ${why.from} refused: ${why.said}` : 'connection closed';
      let refused = told;
      for (let attempt = 0; !signal.aborted; attempt++) {
        // Exponential backoff with full jitter: peers that lost the same tracker do not return in lockstep.
        const delay = Math.round(Math.random() * Math.min(cap, base * 2 ** attempt));
        this.options.onStatus?.({ kind: 'tracker-lost', tracker: this.trackerLabel, attempt, retryInMs: delay, reason, refused });
        await sleep(delay, signal);
        if (signal.aborted) return;
        try {
          // The next tracker of the network first: the one just lost is likely still down.
          const previous = this.trackerLabel;
          const next = (this.trackerIndex + 1) % trackersOf(this.options).length;
          const { session: tracker, index } = await ShareSession.register(this.options, this.server, this.index, next);
          this.trackerIndex = index;
          this.tracker = tracker;
          if (signal.aborted) {
            await tracker.close();
            return;
          }
          this.startHeartbeat();
          this.options.onStatus?.({ kind: 'tracker-back', tracker: this.trackerLabel, previous, files: this.index.size });
          break;
        } catch (error) {
          reason = (error as Error).message;
          refused = error instanceof P2PError && (error.code === 'BANNED' || error.code === 'ACCESS_DENIED');
          this.options.logger.debug({ err: error, attempt }, 'reconnect failed');
        }
      }
    }
  }
}
