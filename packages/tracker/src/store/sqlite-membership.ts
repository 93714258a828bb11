import type Database from 'better-sqlite3';
import type { SqliteStatements } from './sqlite-statements.js';
import type { InstanceMembership, PeerId } from './store.js';

/**
 * The instances of a SQLite store (usually one per file, "default"): the lease row this tracker renews,
 * and the removal of an instance's peers when it joins again, leaves, or lapses. The peers' rows are the
 * share rows' to remove (`removePeer`); this part only says whose.
 */
export class SqliteMembership implements InstanceMembership {
  /** When this run joined as its instance (the instance row's started_at): its lease is renewed only while the row is still that one. */
  private joinedAt = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly statements: SqliteStatements,
    readonly instance: string,
    private readonly removePeer: (peer: PeerId) => Promise<unknown>,
  ) {}

  async join(leaseMs: number): Promise<number> {
    const forgotten = await this.forgetPeersOf(this.instance);
    this.joinedAt = Math.max(Date.now(), this.joinedAt + 1);
    this.statements.joinInstance.run(this.instance, this.joinedAt, this.joinedAt + leaseMs);
    return forgotten;
  }

  async leaseOf(): Promise<{ until: number; leftMs: number } | undefined> {
    const row = this.statements.leaseOf.get(this.instance);
    return row && { until: row.until, leftMs: Math.max(0, row.until - Date.now()) };
  }

  /**
   * Renewed as long as the row is still the one this run joined with, even if the lease ran out
   * meanwhile (a machine suspended, a loop held): here the others sweep an instance by deleting its row
   * first, so a row still there means that none of this instance's peers was removed.
   */
  async renewLease(leaseMs: number): Promise<boolean> {
    return this.statements.renewInstance.run(Date.now() + leaseMs, this.instance, this.joinedAt).changes === 1;
  }

  async sweepLapsed(): Promise<number> {
    // The rows go first, in one transaction: a lapsed instance that renews now learns it was swept.
    const lapsed = this.db.transaction(() => {
      const ids = this.statements.lapsedInstances.all(Date.now(), this.instance).map((row) => row.id);
      for (const id of ids) this.statements.deleteInstance.run(id);
      return ids;
    }).immediate();
    let removed = 0;
    for (const id of lapsed) removed += await this.forgetPeersOf(id);
    return removed;
  }

  async leave(): Promise<void> {
    await this.forgetPeersOf(this.instance);
    this.statements.deleteInstance.run(this.instance);
  }

  /** Removes every peer of `instance` with its files; returns how many peers. */
  private async forgetPeersOf(instance: string): Promise<number> {
    const peers = this.statements.peersOfInstance.all(instance);
    for (const { id } of peers) await this.removePeer(id);
    return peers.length;
  }
}
