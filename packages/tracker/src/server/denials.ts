import type { Logger } from 'pino';

/**
 * Logs connections refused for not being members, a bounded number of lines per window (default 10 a
 * minute): a flood of wrong keys cannot flood the log. What is left out is counted and reported in the
 * first line of the next window.
 */
export class DenialLog {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly perWindow = 10,
    private readonly windowMs = 60_000,
    /** The clock (tests pass their own). */
    private readonly now: () => number = Date.now,
  ) {}

  denied(remote: string, reason: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.logged++;
    const earlier = this.suppressed;
    this.suppressed = 0;
    this.logger.warn({ remote, ...(earlier > 0 && { suppressed: earlier }) }, `access denied: ${reason}`);
  }
}
