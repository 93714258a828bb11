import { type Endpoint } from '@p2pservice/protocol';
import { trackersOf } from './tracker-access.js';
import { WatchLink, type WatchLinkOptions } from './watch-link.js';

/**
 * The wishlist's searches watched on every tracker of the network, one WatchLink apiece: a tracker
 * matches only the shares registered through it, so on a network of several trackers (one database) a
 * search watched on one would miss what the others register. A tracker out of reach, or too old to
 * watch, is tried again at the next watchOnly; until every tracker watches a search, the wishlist also
 * searches for it (WishWatcher).
 */
export class TrackerWatches {
  private readonly links: (WatchLink | undefined)[];
  private closed = false;

  private constructor(
    private readonly options: WatchLinkOptions,
    private readonly trackers: readonly Endpoint[],
  ) {
    this.links = trackers.map(() => undefined);
  }

  /** Watches on every tracker that can; undefined when none can (older trackers, or none reachable). */
  static async open(options: WatchLinkOptions): Promise<TrackerWatches | undefined> {
    const watches = new TrackerWatches(options, trackersOf(options));
    await watches.connectMissing();
    return watches.links.some((link) => link !== undefined) ? watches : undefined;
  }

  /** Whether every tracker is watching now; while one is not, searching finds what it registers. */
  get watching(): boolean {
    return this.links.every((link) => link?.watching === true);
  }

  /** Whether every tracker watches `query` now. */
  isWatched(query: string): boolean {
    return this.links.every((link) => link?.isWatched(query) === true);
  }

  /** Watches exactly `queries` on every tracker from now on (connecting to those missing first). */
  async watchOnly(queries: readonly string[]): Promise<void> {
    await this.connectMissing();
    await Promise.all(this.links.map((link) => link?.watchOnly(queries)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.links.map((link) => link?.close()));
  }

  private async connectMissing(): Promise<void> {
    await Promise.all(
      this.trackers.map(async (tracker, n) => {
        if (this.links[n] || this.closed) return;
        const link = await WatchLink.open({ ...this.options, tracker });
        if (this.closed) await link?.close();
        else this.links[n] = link;
      }),
    );
  }
}
