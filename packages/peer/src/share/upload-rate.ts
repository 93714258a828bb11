import { setTimeout as sleep } from 'node:timers/promises';

/** How far ahead of the rate an idle holder may send at once, so a new upload starts at full speed. */
const BURST_MS = 100;

/**
 * A holder's upload rate limit (PEER_MAX_UPLOAD_RATE), shared by all its uploads: each chunk is given the
 * next slice of a virtual clock that runs at `bytesPerSecond`, and waits until the clock reaches it. The
 * uploads share the rate in the order they ask, so none starves; an idle holder banks at most BURST_MS.
 */
export class UploadRate {
  private nextFreeAt = 0;

  constructor(readonly bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError('an upload rate must be positive');
  }

  /**
   * Resolves when `bytes` more may be sent: when the clock, given their slice, is no more than BURST_MS
   * ahead of now. So by any time t, at most rate × (t + BURST_MS) bytes have gone out.
   */
  async take(bytes: number): Promise<void> {
    const now = performance.now();
    this.nextFreeAt = Math.max(this.nextFreeAt, now) + (bytes * 1000) / this.bytesPerSecond;
    const wait = this.nextFreeAt - BURST_MS - now;
    if (wait > 0) await sleep(wait);
  }
}
