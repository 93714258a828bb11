/** When a window of counted requests began, and how many came in it. */
export interface RequestWindow {
  since: number;
  count: number;
}

/** The window with one more request, or a new one if it had ended. */
export function counted(window: RequestWindow | undefined, now: number, windowMs: number): RequestWindow {
  return window && now - window.since < windowMs ? { since: window.since, count: window.count + 1 } : { since: now, count: 1 };
}

/**
 * Requests a window per key (a sender, a member): connect requests, searches. Windows of keys quiet
 * lately are forgotten now and then, so the map holds only those asking lately.
 */
export class RequestWindows {
  private readonly windows = new Map<string, RequestWindow>();

  constructor(private readonly windowMs: number) {}

  /** Counts one more request of `key`; the count in the current window. */
  take(key: string, now = Date.now()): number {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (now - w.since >= this.windowMs) this.windows.delete(k);
    const next = counted(this.windows.get(key), now, this.windowMs);
    this.windows.set(key, next);
    return next.count;
  }
}
