import { setTimeout as sleep } from 'node:timers/promises';
import { P2PError } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import type { TrackerStore } from '../store/store.js';

/**
 * This tracker's lease on the network's database: renewed every third of its length, and with each
 * renewal the instances whose leases lapsed are swept (their peers' rows removed). When the lease cannot
 * be renewed before it runs out (the database is unreachable, or another tracker swept this one), the
 * tracker is told to drop its connections, and the lease keeps trying to join again; until it has,
 * `serving` is false and the tracker turns new connections away with UNAVAILABLE.
 *
 * The deadline is kept on this machine's monotonic clock, from the moment the last successful renewal
 * was sent: the database's clock can only put the lapse later, so this tracker stops before others sweep
 * it; and a step of the wall clock (a time sync) neither ends the lease early nor stretches it.
 */
export class InstanceLease {
  private renewTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  /** When the last successful renewal (or join) was sent. */
  private renewedAt = 0;
  private unreachableSince: number | undefined;
  private stopped = false;
  serving = true;

  constructor(
    private readonly store: TrackerStore,
    private readonly leaseMs: number,
    private readonly logger: Logger,
    /** Drops every connection: their peers' rows are no longer this tracker's to keep. */
    private readonly onLost: () => void,
    /** This machine's monotonic clock in ms, which the lease's deadline is kept on (tests move it). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  get renewEveryMs(): number {
    return Math.max(10, Math.floor(this.leaseMs / 3));
  }

  /**
   * Joins (forgetting what an earlier run of this instance left) and starts renewing and sweeping. A
   * live lease under this name is first watched until it lapses: a run that crashed left it, and joining
   * at once would be safe; but a tracker still running under this name renews it, and joining would
   * take its peers away from under it. That one is left alone: INSTANCE_IN_USE.
   */
  async start(): Promise<number> {
    await this.waitForLapse();
    const sentAt = this.now();
    const forgotten = await this.store.membership.join(this.leaseMs);
    this.renewedAt = sentAt;
    this.renewTimer = this.every(() => this.renewOnce());
    // Sweeping runs on its own: a long sweep (a dead tracker of many peers) never delays a renewal.
    this.sweepTimer = this.every(() => (this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined))));
    return forgotten;
  }

  private async waitForLapse(): Promise<void> {
    const seen = await this.store.membership.leaseOf();
    if (!seen || seen.leftMs <= 0) return;
    this.logger.info({ instance: this.store.membership.instance, waitMs: Math.ceil(seen.leftMs) }, 'waiting for the lease of an earlier run under this name to lapse (a tracker that crashed, or one still running)');
    const deadline = this.now() + seen.leftMs;
    for (;;) {
      await sleep(Math.max(10, Math.min(this.renewEveryMs / 4, deadline - this.now())));
      const now = await this.store.membership.leaseOf();
      if (now && now.until !== seen.until) {
        throw new P2PError(
          'INSTANCE_IN_USE',
          `another tracker is running as instance "${this.store.membership.instance}" on ${this.store.location}: it renewed its lease while this one waited`,
          'stop that tracker first, or give this one a database of its own with --db',
        );
      }
      if (!now || now.leftMs <= 0 || this.now() >= deadline) return;
    }
  }

  /** Stops renewing and sweeping, and waits for what is under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearInterval(this.sweepTimer);
    await Promise.allSettled([this.renewing, this.sweeping]);
  }

  private every(work: () => Promise<void>): NodeJS.Timeout {
    return setInterval(() => {
      if (!this.stopped) void work();
    }, this.renewEveryMs);
  }

  private async renew(): Promise<void> {
    const sentAt = this.now();
    try {
      if (!this.serving) {
        await this.rejoin(sentAt);
        return;
      }
      // A renewal stuck on an unreachable database must not keep this tracker serving past its lease.
      const renewed = await this.beforeDeadline(this.store.membership.renewLease(this.leaseMs));
      if (renewed === 'late') return this.lose('its lease ran out while the database did not answer');
      if (!renewed) return this.lose('its lease had lapsed, and other trackers may have removed its peers');
      this.renewedAt = sentAt;
      this.reachable();
    } catch (error) {
      this.unreachable(error);
      // The next renewal would come too late to be sure the lease still holds: stop now, while it does.
      if (this.serving && this.now() - this.renewedAt >= this.leaseMs - this.renewEveryMs) {
        this.lose('the database stayed unreachable for most of its lease');
      }
    }
  }

  private async sweep(): Promise<void> {
    if (!this.serving) return;
    try {
      const swept = await this.store.membership.sweepLapsed();
      if (swept > 0) this.logger.info({ peers: swept }, 'removed the peers of tracker instances whose lease lapsed');
    } catch (error) {
      this.unreachable(error);
    }
  }

  private async beforeDeadline<T>(work: Promise<T>): Promise<T | 'late'> {
    const left = this.renewedAt + this.leaseMs - this.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
    work.catch(() => undefined);
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private lose(why: string): void {
    this.serving = false;
    this.logger.warn(`this tracker stops serving: ${why}; its peers are dropped and will reconnect, and it rejoins once it can`);
    this.onLost();
    // Rejoin at once, not a renewal period later: after a pause of the whole machine (every tracker of
    // the network losing its lease together) the network is back as soon as the database answers.
    setImmediate(() => {
      if (!this.stopped && !this.serving) void this.renewOnce();
    });
  }

  /** A renewal (or a rejoin), unless one is under way. */
  private renewOnce(): Promise<void> {
    return (this.renewing ??= this.renew().finally(() => (this.renewing = undefined)));
  }

  private async rejoin(sentAt: number): Promise<void> {
    await this.store.membership.join(this.leaseMs);
    this.renewedAt = sentAt;
    this.serving = true;
    this.reachable();
    this.logger.info({ instance: this.store.membership.instance }, 'this tracker rejoined the network and serves again');
  }

  private unreachable(error: unknown): void {
    if (this.unreachableSince !== undefined) return;
    this.unreachableSince = this.now();
    this.logger.warn({ err: error }, 'the database is unreachable; requests are answered UNAVAILABLE until it is back');
  }

  private reachable(): void {
    if (this.unreachableSince === undefined) return;
    this.logger.info({ seconds: (this.now() - this.unreachableSince) / 1000 }, 'the database is reachable again');
    this.unreachableSince = undefined;
  }
}
