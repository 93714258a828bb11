import type { DownloadResult } from '../download/download.js';
import type { PeerNode } from '../node.js';
import type { Wishlist } from './wishlist.js';

/** Matches looked at per want and round: the best first, as a person's search shows them. */
export const WANT_RESULTS = 100;

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
}

/**
 * Fetches, for each saved search, the matches that appear on the network, once each: the first round at
 * once, then one every interval, the wants' searches spread over it (a peer with 32 wants asks about one
 * every couple of seconds, not 32 at a time). Matches this peer shares itself are skipped. Each fetch is
 * the one download of every face: verified, resumable, into the wanted folder.
 */
export class WishWatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Contents that failed once: said once, tried again each round without a word. */
  private readonly failedBefore = new Set<string>();

  constructor(private readonly options: WishWatcherOptions) {}

  start(): void {
    const next = () => {
      if (this.stopped) return;
      void this.runRound()
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
  }

  /** One look for every want; the number of wants, or undefined when stopped half-way. */
  private async runRound(): Promise<number | undefined> {
    const { node, wishlist } = this.options;
    const wants = await wishlist.wants().catch(() => []);
    const spacing = wants.length > 1 ? this.options.intervalMs / wants.length : 0;
    for (const [n, want] of wants.entries()) {
      if (this.stopped) return undefined;
      if (n > 0 && spacing > 0) await new Promise((resolve) => (this.timer = setTimeout(resolve, spacing)));
      let found;
      try {
        found = await node.search({ query: want.query }, WANT_RESULTS);
      } catch (error) {
        this.options.onFailed(want.query, '', error);
        continue;
      }
      for (const match of found) {
        if (this.stopped) return undefined;
        if (want.fetched.includes(match.sha256) || node.sharesContent(match.sha256)) continue;
        try {
          const result = await node.download({ name: match.name, outDir: this.options.outDir, sha256Prefix: match.sha256 });
          await wishlist.fetched(want.query, match.sha256);
          want.fetched.push(match.sha256);
          this.options.onSaved(want.query, result);
        } catch (error) {
          if (this.stopped) return undefined;
          if (!this.failedBefore.has(match.sha256)) this.options.onFailed(want.query, match.name, error);
          this.failedBefore.add(match.sha256);
        }
      }
    }
    return wants.length;
  }
}
