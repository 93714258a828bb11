import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { query } from './pg-database.js';
import { prepared } from './pg-statements.js';
import type { InstanceMembership, PeerId } from './store.js';

/** Peers looked at per query when a whole instance goes (a sweep, a join, a leave). */
const PEERS_PER_BATCH = 25;

export const newInstanceName = () => `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;

/** What membership needs of the share rows: peers removed, and those whose removal failed tried again. */
export interface PeerRemoval {
  removePeer(peer: PeerId): Promise<unknown>;
  /** Tries again to remove the peers whose removal failed (the database was away). */
  retryFailedRemovals(): Promise<void>;
  /** Forgets those: their instance's rows are gone another way. */
  forgetFailedRemovals(): void;
}

/**
 * The tracker instances sharing one PostgreSQL database: this one's lease (on a connection of its own),
 * and the removal of an instance's peers when it joins again, leaves, or lapses, a batch at a time.
 */
export class PgMembership implements InstanceMembership {
  private joined = false;

  constructor(
    private readonly pool: pg.Pool,
    /**
     * A connection of its own for the lease: renewals never wait behind requests for a connection, so
     * a tracker busy serving (a crowd of peers registering at once) is not mistaken for one cut off.
     */
    private readonly leasePool: pg.Pool,
    private readonly location: string,
    private instanceName: string,
    private readonly rows: PeerRemoval,
  ) {}

  get instance(): string {
    return this.instanceName;
  }

  /**
   * Joins with a lease, then forgets what an earlier run of this instance left, a batch at a time (the
   * lease renewed after each). Joining again (after the lease was lost) is joining as a new instance:
   * others may be sweeping the old one, and must never sweep a peer registered after the return.
   */
  async join(leaseMs: number): Promise<number> {
    if (this.joined) this.instanceName = newInstanceName();
    await query(this.leasePool, this.location, prepared('joinInstance', [this.instance, leaseMs]));
    this.joined = true;
    this.rows.forgetFailedRemovals();
    return this.forgetPeersOf(this.instance, () => this.renewLease(leaseMs));
  }

  async leaseOf(): Promise<{ until: number; leftMs: number } | undefined> {
    const row = (await query<{ until: number; left_ms: number }>(this.leasePool, this.location, prepared('leaseOf', [this.instance]))).rows[0];
    return row && { until: row.until, leftMs: row.left_ms };
  }

  async renewLease(leaseMs: number): Promise<boolean> {
    return (await query(this.leasePool, this.location, prepared('renewInstance', [this.instance, leaseMs]))).rowCount === 1;
  }

  async sweepLapsed(): Promise<number> {
    await this.rows.retryFailedRemovals();
    let removed = 0;
    for (const { id } of (await query<{ id: string }>(this.pool, this.location, prepared('lapsedInstances', [this.instance]))).rows) {
      removed += await this.forgetPeersOf(id);
      // Gone once no peer of it is left (another tracker may still be removing a batch).
      await query(this.pool, this.location, prepared('deleteSweptInstance', [id]));
    }
    return removed;
  }

  async leave(): Promise<void> {
    await this.forgetPeersOf(this.instance);
    await query(this.pool, this.location, prepared('deleteInstance', [this.instance]));
    this.rows.forgetFailedRemovals();
  }

  /**
   * Deletes every peer of `instance` with its files, a batch of files per transaction (removePeer),
   * calling `between` after each peer; returns how many peers.
   */
  private async forgetPeersOf(instance: string, between?: () => Promise<unknown>): Promise<number> {
    let forgotten = 0;
    for (;;) {
      const peers = (await query<{ id: number }>(this.pool, this.location, prepared('somePeersOf', [instance, PEERS_PER_BATCH]))).rows;
      if (peers.length === 0) return forgotten;
      for (const { id } of peers) {
        await this.rows.removePeer(id);
        forgotten++;
        await between?.();
      }
    }
  }
}
