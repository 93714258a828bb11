import type { WatchMatch } from '@p2pservice/protocol';
import type { DownloadResult } from '../download/download.js';
import type { TrackerWatches } from '../network/tracker-watches.js';
import type { PeerNode } from '../node.js';
import type { Want, Wishlist } from './wishlist.js';

/** Matches looked at per want and round: the best first, as a person's search shows them. */
export const WANT_RESULTS = 100;

/**
 * With every tracker of the network watching the wants, a search round only every this many intervals
 * (and when the wishlist changed, or a lost connection is back): a safety net for matches no notice
 * brought.
 */
export const WATCHED_ROUND_FACTOR = 10;

export interface WishWatcherOptions {
  node: PeerNode;
  wishlist: Wishlist;
  /** Where matches are saved (PEER_WANT_DIR). */
  outDir: string;
  /** Between rounds (PEER_WANT_INTERVAL); each round asks once per want, spread over the interval. */
  intervalMs: number;
  onSaved: (query: string, result: DownloadResult) => void;
  onFailed: (query: string, name: string, error: unknown) => void;
  /** A round is over (the debug log says so). */
  onRound?: (wants: number) => void;
  /** The tracker told of `files` matching `query` (the debug log says so). */
  onTold?: (query: string, files: number) => void;
  /** Whether the tracker watches the wants now (feature watch), said when it changes. */
  onWatching?: (watching: boolean) => void;
}

/**
 * Fetches, for each saved search, the matches that appear on the network, once each. The tracker, when
 * it can, watches the wants and tells of each new match as it is shared (fetched at once); a round
 * searches at the start, when the wishlist changed, after a lost connection is back, and otherwise only
 * every WATCHED_ROUND_FACTOR intervals. A tracker that cannot watch (or a want it would not watch, over its
 * bounds) is searched every interval, the wants' searches spread over it (a peer with 32 wants asks about
 * one every couple of seconds, not 32 at a time). Matches this peer shares itself are skipped. Each fetch is the one download of every face: verified, resumable, into the wanted folder,
 * one at a time.
 */
export class WishWatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Contents that failed once: said once, tried again later without a word. */
  private readonly failedBefore = new Set<string>();
  /** The wants as last read, by query: what a notice is matched to. */
  private wants = new Map<string, Want>();
  private link: TrackerWatches | undefined;
  private watching = false;
  /** Searches and fetches, one at a time: a notice's fetches wait for a round's, and the other way round. */
  private work: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WishWatcherOptions) {}

  start(): void {
    let tick = 0;
    const next = () => {
      if (this.stopped) return;
      const rare = tick++ % WATCHED_ROUND_FACTOR === 0;
      // The watch first: a match shared while the round searches is told, not left to the next round.
      void this.serially(async () => {
        const changed = await this.readWants();
        await this.watch();
        // Watched, the wishlist is searched for when it changed (a want added in another terminal) or rarely.
        const allWatched = [...this.wants.keys()].every((query) => this.link?.isWatched(query));
        return !this.watching || !allWatched || changed || rare ? this.runRound() : undefined;
      })
        .catch(() => undefined)
        .then((wants) => wants !== undefined && this.options.onRound?.(wants))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(next, this.options.intervalMs);
        });
    };
    next();
  }

  /**
   * Stops after the current step: no further search or fetch starts. A fetch running now ends with the
   * node's close, which keeps its part for the next time.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    void this.link?.close();
  }

  /** Reads the wishlist again; whether its wants changed since the last read. */
  private async readWants(): Promise<boolean> {
    const wants = await this.options.wishlist.wants().catch(() => []);
    const before = [...this.wants.keys()].join('\n');
    this.wants = new Map(wants.map((want) => [want.query, want]));
    return [...this.wants.keys()].join('\n') !== before;
  }

  /** Has the tracker watch exactly the wants read last (connecting the first time); says when that changes. */
  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.link ??= await this.options.node.watchSearches({
      onMatch: (query, match) => void this.serially(() => this.fetchTold(query, match)),
      // What was shared while the connection was down was not told: a round looks for it now.
      onBack: () => void this.serially(async () => (await this.readWants(), this.runRound())),
    });
    if (this.stopped) return void this.link?.close();
    await this.link?.watchOnly([...this.wants.keys()]);
    const watching = this.link?.watching ?? false;
    if (watching !== this.watching) this.options.onWatching?.(watching);
    this.watching = watching;
  }

  private serially<T>(task: () => Promise<T>): Promise<T | undefined> {
    const run = this.work.then(() => (this.stopped ? undefined : task()));
    this.work = run.catch(() => undefined);
    return run;
  }

  /**
   * One look for every want read last; the number of wants, or undefined when stopped half-way. Unwatched,
   * the searches spread over the interval; watched, a round is rare and runs through (notices wait for it).
   */
  private async runRound(): Promise<number | undefined> {
    const wants = [...this.wants.values()];
    const spacing = wants.length > 1 && !this.watching ? this.options.intervalMs / wants.length : 0;
    for (const [n, want] of wants.entries()) {
      if (this.stopped) return undefined;
      if (n > 0 && spacing > 0) await new Promise((resolve) => (this.timer = setTimeout(resolve, spacing)));
      if (!(await this.lookFor(want))) return undefined;
    }
    return wants.length;
  }

  /** Searches for `want` and fetches each new match; false when stopped half-way. */
  private async lookFor(want: Want): Promise<boolean> {
    let found;
    try {
      found = await this.options.node.search({ query: want.query }, WANT_RESULTS);
    } catch (error) {
      this.options.onFailed(want.query, '', error);
      return true;
    }
    for (const match of found) if (!(await this.fetch(want, match))) return false;
    return true;
  }

  /** The files the tracker told of for `query`: each fetched once; when it had more to tell, a search. */
  private async fetchTold(query: string, match: WatchMatch): Promise<void> {
    const want = this.wants.get(query);
    if (!want) return;
    this.options.onTold?.(query, match.files.length);
    for (const file of match.files) if (!(await this.fetch(want, file))) return;
    if (match.more) await this.lookFor(want);
  }

  /** Fetches one match of `want` unless it was fetched before or this peer shares it; false when stopped. */
  private async fetch(want: Want, match: { name: string; sha256: string }): Promise<boolean> {
    const { node, wishlist } = this.options;
    if (this.stopped) return false;
    if (want.fetched.includes(match.sha256) || node.sharesContent(match.sha256)) return true;
    try {
      const result = await node.download({ name: match.name, outDir: this.options.outDir, sha256Prefix: match.sha256 });
      await wishlist.fetched(want.query, match.sha256);
      want.fetched.push(match.sha256);
      this.options.onSaved(want.query, result);
    } catch (error) {
      if (this.stopped) return false;
      if (!this.failedBefore.has(match.sha256)) this.options.onFailed(want.query, match.name, error);
      this.failedBefore.add(match.sha256);
    }
    return true;
  }
}
