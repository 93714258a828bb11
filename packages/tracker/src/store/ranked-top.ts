import { compareRanked, type RankedEntry, type SearchCursor } from '@p2pservice/protocol';

/**
 * The best `limit` search results after `after`, kept while candidates stream past: memory stays at one
 * page however many names match, and most candidates cost one comparison with the worst kept.
 */
export class RankedTop {
  private readonly kept: RankedEntry[] = [];

  constructor(
    private readonly limit: number,
    private readonly after: SearchCursor | null,
  ) {}

  /**
   * Whether a candidate could still make the page, at the best rank it could have: when it could not,
   * it need not be matched at all (on a broad search, most candidates are skipped this way).
   */
  mightTake(holders: number, name: string, sha256: string): boolean {
    const { kept } = this;
    return kept.length < this.limit || compareRanked({ rank: 0, holders, name, sha256 }, kept[kept.length - 1]!) < 0;
  }

  offer(entry: RankedEntry): void {
    if (this.after && compareRanked(entry, this.after) <= 0) return;
    const { kept } = this;
    if (kept.length === this.limit && compareRanked(entry, kept[kept.length - 1]!) >= 0) return;
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareRanked(kept[middle]!, entry) < 0) low = middle + 1;
      else high = middle;
    }
    kept.splice(low, 0, entry);
    if (kept.length > this.limit) kept.pop();
  }

  /** The results, best first. */
  get entries(): RankedEntry[] {
    return this.kept;
  }
}
