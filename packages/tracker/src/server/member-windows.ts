/** When a window of counted requests began, and how many came in it. */
interface Window {
  since: number;
  count: number;
}

/** Requests a window per member (searches, connect requests). Windows of members quiet lately are forgotten. */
export class MemberWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly windowMs: number) {}

  /** Counts one more request of `member`; the count in the current window. */
  take(member: string, now = Date.now()): number {
    if (this.windows.size > 10_000) for (const [key, w] of this.windows) if (now - w.since >= this.windowMs) this.windows.delete(key);
    const window = this.windows.get(member);
    const next = window && now - window.since < this.windowMs ? { since: window.since, count: window.count + 1 } : { since: now, count: 1 };
    this.windows.set(member, next);
    return next.count;
  }
}
