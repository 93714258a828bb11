import type pg from 'pg';
import { query } from './pg-database.js';
import type { Ban, BanList } from './store.js';

/** The bans of a PostgreSQL store (store.ts: BanList), shared by every tracker of the network. */
export class PgBans implements BanList {
  constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
  ) {}

  async ban(target: string, until: number | null, at: number): Promise<void> {
    await query(this.pool, this.location, {
      text: 'INSERT INTO bans (target, until, banned_at) VALUES ($1, $2, $3) ON CONFLICT (target) DO UPDATE SET until = excluded.until, banned_at = excluded.banned_at',
      values: [target, until, at],
    });
  }

  async unban(target: string): Promise<boolean> {
    return (await query(this.pool, this.location, { text: 'DELETE FROM bans WHERE target = $1', values: [target] })).rowCount === 1;
  }

  async inForce(now: number): Promise<Ban[]> {
    // Ended bans are left for the banning tool's next write to replace, or for `unban`: every tracker
    // reads this each second, and a delete from each would be writes for nothing.
    const rows = await query<{ target: string; until: string | null; banned_at: string }>(this.pool, this.location, {
      name: 'bansInForce',
      text: 'SELECT target, until, banned_at FROM bans WHERE until IS NULL OR until > $1 ORDER BY target',
      values: [now],
    });
    return rows.rows.map((row) => ({ target: row.target, until: row.until === null ? null : Number(row.until), at: Number(row.banned_at) }));
  }
}
