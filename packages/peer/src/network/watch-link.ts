import { HEARTBEAT_INTERVAL_MS, PEER_TIMEOUT_MS, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, type TrackerSession, type WatchMatch } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { sleep } from '../util/sleep.js';
import { AGENTS } from './agents.js';
import { type NetworkAccess, openTracker } from './tracker-access.js';

export interface WatchLinkOptions extends NetworkAccess {
  logger: Logger;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** Files the tracker says match the watched search `query`. */
  onMatch: (query: string, match: WatchMatch) => void;
  /** The connection was lost and is back, every search watched again: what came meanwhile was not told. */
  onBack: () => void;
}

/**
 * A tracker connection that keeps searches watched (feature `watch`, spec: Watching a search): the
 * wishlist told of new matches as shares register, instead of searching again and again. It pings on the
 * tracker's heartbeat, and after a loss connects again (backing off) and watches every search again.
 */
export class WatchLink {
  private readonly numbers = new Map<string, number>();
  private readonly queries = new Map<number, string>();
  private wanted: readonly string[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();

  private constructor(
    private readonly options: WatchLinkOptions,
    private session: TrackerSession,
  ) {}

  /** Connects and follows notices; undefined when the tracker cannot watch (an older one) or cannot be reached. */
  static async open(options: WatchLinkOptions): Promise<WatchLink | undefined> {
    const session = await WatchLink.connect(options);
    if (!session) return undefined;
    const link = new WatchLink(options, session);
    link.follow(session);
    return link;
  }

  /** Whether the tracker is watching now (connected); while it is not, only searching finds matches. */
  get watching(): boolean {
    return !this.session.connection.isClosed;
  }

  /** Whether the tracker watches `query` now. */
  isWatched(query: string): boolean {
    return this.watching && this.numbers.has(query);
  }

  /**
   * Watches exactly `queries` from now on: new ones are watched, gone ones unwatched. A query the tracker
   * refuses (over its bounds) is left to the searches, said in the debug log.
   */
  async watchOnly(queries: readonly string[]): Promise<void> {
    this.wanted = [...queries];
    const session = this.session;
    for (const [query, number] of [...this.numbers]) {
      if (queries.includes(query)) continue;
      this.forget(query, number);
      await session.unwatch(number).catch(() => undefined);
    }
    for (const query of queries) {
      if (this.numbers.has(query)) continue;
      try {
        const number = await session.watch({ query });
        this.numbers.set(query, number);
        this.queries.set(number, query);
      } catch (error) {
        this.options.logger.debug({ err: error, query }, 'search not watched; it is searched for now and then');
      }
    }
  }

  async close(): Promise<void> {
    this.stopped.abort();
    clearInterval(this.heartbeat);
    await this.session.close().catch(() => undefined);
  }

  private static async connect(options: WatchLinkOptions): Promise<TrackerSession | undefined> {
    let session: TrackerSession;
    try {
      session = await openTracker(options, AGENTS.want);
    } catch (error) {
      options.logger.debug({ err: error }, 'no tracker to watch the wishlist');
      return undefined;
    }
    if (session.supports('watch')) return session;
    await session.close();
    return undefined;
  }

  private follow(session: TrackerSession): void {
    this.session = session;
    session.onWatchMatch((match) => {
      const query = this.queries.get(match.watch);
      if (query !== undefined) this.options.onMatch(query, match);
    });
    const timeout = session.welcome?.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void session.ping(timeout).catch(() => session.connection.destroy()), session.welcome?.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
    void session.whenClosed.then(() => this.lost(session));
  }

  private forget(query: string, number: number): void {
    this.numbers.delete(query);
    this.queries.delete(number);
  }

  /** The connection ended: connect again (backing off) and watch every search again. */
  private async lost(session: TrackerSession): Promise<void> {
    if (this.session !== session || this.stopped.signal.aborted) return;
    clearInterval(this.heartbeat);
    this.numbers.clear();
    this.queries.clear();
    const cap = this.options.reconnectMaxDelayMs ?? RECONNECT_MAX_DELAY_MS;
    const base = this.options.reconnectBaseDelayMs ?? RECONNECT_BASE_DELAY_MS;
    for (let attempt = 0; !this.stopped.signal.aborted; attempt++) {
      await sleep(Math.round(Math.random() * Math.min(cap, base * 2 ** attempt)), this.stopped.signal);
      if (this.stopped.signal.aborted) return;
      const again = await WatchLink.connect(this.options);
      if (!again) continue;
      this.follow(again);
      await this.watchOnly(this.wanted);
      this.options.onBack();
      return;
    }
  }
}
