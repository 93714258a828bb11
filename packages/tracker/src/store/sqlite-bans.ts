import type Database from 'better-sqlite3';
import type { Ban, BanList } from './store.js';

/** The bans of a SQLite store (store.ts: BanList). Small and rarely written: plain statements. */
export class SqliteBans implements BanList {
  private readonly put: Database.Statement<[string, number | null, number]>;
  private readonly remove: Database.Statement<[string]>;
  private readonly ended: Database.Statement<[number]>;
  private readonly all: Database.Statement<[], { target: string; until: number | null; banned_at: number }>;

  constructor(db: Database.Database) {
    this.put = db.prepare('INSERT INTO bans (target, until, banned_at) VALUES (?, ?, ?) ON CONFLICT (target) DO UPDATE SET until = excluded.until, banned_at = excluded.banned_at');
    this.remove = db.prepare('DELETE FROM bans WHERE target = ?');
    this.ended = db.prepare('DELETE FROM bans WHERE until IS NOT NULL AND until <= ?');
    this.all = db.prepare('SELECT target, until, banned_at FROM bans ORDER BY target');
  }

  async ban(target: string, until: number | null, at: number): Promise<void> {
    this.put.run(target, until, at);
  }

  async unban(target: string): Promise<boolean> {
    return this.remove.run(target).changes === 1;
  }

  async inForce(now: number): Promise<Ban[]> {
    this.ended.run(now);
    return this.all.all().map((row) => ({ target: row.target, until: row.until, at: row.banned_at }));
  }
}
