import type Database from 'better-sqlite3';
import { inviteDetail, inviteOf, type InviteRow, memberOf, type MemberRow } from './member-rows.js';
import type { LogEntry, Member, MemberList, Redemption, StoredInvite } from './store.js';

/** The members, invites and audit log of a SQLite store (store.ts: MemberList). Small rows, one at a time. */
export class SqliteMembers implements MemberList {
  private readonly one: Database.Statement<[string], MemberRow>;
  private readonly touch: Database.Statement<[number, string]>;
  private readonly addMember: Database.Statement<[string, string, string, number, number]>;
  private readonly oneInvite: Database.Statement<[string], InviteRow>;
  private readonly spend: Database.Statement<[string]>;
  private readonly addInvite: Database.Statement<[string, Buffer, string | null, number, number | null, number, string]>;
  private readonly usable: Database.Statement<[number], InviteRow>;
  private readonly dropInvite: Database.Statement<[string]>;
  private readonly all: Database.Statement<[], MemberRow>;
  private readonly revokeOne: Database.Statement<[number, string]>;
  private readonly addEntry: Database.Statement<[number, string, string, string]>;
  private readonly after: Database.Statement<[number, number], LogEntry>;
  private readonly last: Database.Statement<[], { seq: number | null }>;

  constructor(private readonly db: Database.Database) {
    this.one = db.prepare('SELECT * FROM members WHERE identity = ?');
    this.touch = db.prepare('UPDATE members SET last_seen = ? WHERE identity = ?');
    this.addMember = db.prepare('INSERT INTO members (identity, name, invited_by, joined_at, last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT (identity) DO NOTHING');
    this.oneInvite = db.prepare('SELECT * FROM invites WHERE id = ?');
    this.spend = db.prepare('UPDATE invites SET uses_left = uses_left - 1 WHERE id = ?');
    this.addInvite = db.prepare('INSERT INTO invites (id, secret, name, uses_left, expires_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.usable = db.prepare('SELECT * FROM invites WHERE uses_left > 0 AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id');
    this.dropInvite = db.prepare('DELETE FROM invites WHERE id = ?');
    this.all = db.prepare('SELECT * FROM members ORDER BY name, identity');
    this.revokeOne = db.prepare('UPDATE members SET revoked_at = ? WHERE identity = ? AND revoked_at IS NULL');
    this.addEntry = db.prepare('INSERT INTO member_log (at, event, subject, detail) VALUES (?, ?, ?, ?)');
    this.after = db.prepare('SELECT seq, at, event, subject, detail FROM member_log WHERE seq > ? ORDER BY seq LIMIT ?');
    this.last = db.prepare('SELECT max(seq) AS seq FROM member_log');
  }

  async seen(identity: string, now: number): Promise<Member | undefined> {
    const row = this.one.get(identity);
    if (!row) return undefined;
    this.touch.run(now, identity);
    return memberOf({ ...row, last_seen: now });
  }

  async redeem(id: string, identity: string, now: number, proves: (secret: Buffer) => boolean): Promise<Redemption> {
    return this.db.transaction((): Redemption => {
      const invite = this.oneInvite.get(id);
      if (!invite) return { refused: 'unknown' };
      if (!proves(Buffer.from(invite.secret))) return { refused: 'wrong-proof' };
      const existing = this.one.get(identity);
      if (existing && existing.revoked_at !== null) return { refused: 'revoked' };
      if (existing) return { member: memberOf(existing) };
      if (invite.uses_left <= 0) return { refused: 'used' };
      if (invite.expires_at !== null && invite.expires_at <= now) return { refused: 'expired' };
      this.spend.run(id);
      const name = invite.name ?? identity.slice(0, 7);
      const invitedBy = `invite ${id} by ${invite.created_by}`;
      this.addMember.run(identity, name, invitedBy, now, now);
      this.addEntry.run(now, 'join', identity, `${name}, ${invitedBy}`);
      return { member: memberOf(this.one.get(identity)!) };
    }).immediate();
  }

  async enrol(identity: string, name: string, now: number): Promise<Member> {
    return this.db.transaction((): Member => {
      if (this.addMember.run(identity, name, 'network key', now, now).changes === 1) this.addEntry.run(now, 'enrol', identity, `${name}, network key`);
      return memberOf(this.one.get(identity)!);
    }).immediate();
  }

  async invite(invite: StoredInvite): Promise<void> {
    this.db.transaction(() => {
      this.addInvite.run(invite.id, invite.secret, invite.name, invite.usesLeft, invite.expiresAt, invite.createdAt, invite.createdBy);
      this.addEntry.run(invite.createdAt, 'invite', invite.id, inviteDetail(invite));
    }).immediate();
  }

  async invites(now: number): Promise<StoredInvite[]> {
    return this.usable.all(now).map(inviteOf);
  }

  async uninvite(id: string, now: number, by: string): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.dropInvite.run(id).changes === 0) return false;
      this.addEntry.run(now, 'uninvite', id, `by ${by}`);
      return true;
    }).immediate();
  }

  async members(): Promise<Member[]> {
    return this.all.all().map(memberOf);
  }

  async counts(): Promise<{ members: number; revoked: number }> {
    const row = this.db.prepare<[], { members: number; revoked: number }>('SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS members, count(revoked_at) AS revoked FROM members').get()!;
    return { members: row.members, revoked: row.revoked };
  }

  async recent(limit: number): Promise<Member[]> {
    return this.db.prepare<[number], MemberRow>('SELECT * FROM members ORDER BY last_seen DESC, identity LIMIT ?').all(limit).map(memberOf);
  }

  async onlineIdentities(): Promise<Set<string>> {
    return new Set(this.db.prepare<[], { identity: string }>("SELECT DISTINCT identity FROM peers WHERE identity <> ''").all().map((row) => row.identity));
  }

  async online(): Promise<Map<string, number>> {
    const rows = this.db
      .prepare<[], { identity: string; files: number }>("SELECT p.identity, (SELECT count(*) FROM files f WHERE f.peer_id = p.id) AS files FROM peers p WHERE p.identity <> ''")
      .all();
    const online = new Map<string, number>();
    for (const row of rows) online.set(row.identity, (online.get(row.identity) ?? 0) + row.files);
    return online;
  }

  async revoke(identity: string, now: number, by: string): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.revokeOne.run(now, identity).changes === 0) return false;
      this.addEntry.run(now, 'revoke', identity, `${this.one.get(identity)!.name}, by ${by}`);
      return true;
    }).immediate();
  }

  async addSigner(identity: string, now: number): Promise<void> {
    this.db.prepare('INSERT INTO ticket_signers (identity, seen_at) VALUES (?, ?) ON CONFLICT (identity) DO UPDATE SET seen_at = excluded.seen_at').run(identity, now);
  }

  async signers(since: number, limit: number): Promise<string[]> {
    return this.db
      .prepare<[number, number], { identity: string }>('SELECT identity FROM ticket_signers WHERE seen_at >= ? ORDER BY seen_at DESC, identity LIMIT ?')
      .all(since, limit)
      .map((row) => row.identity);
  }

  async record(entry: Omit<LogEntry, 'seq'>): Promise<void> {
    this.addEntry.run(entry.at, entry.event, entry.subject, entry.detail);
  }

  async log(afterSeq: number, limit: number): Promise<LogEntry[]> {
    return this.after.all(afterSeq, limit);
  }

  async lastSeq(): Promise<number> {
    return this.last.get()?.seq ?? 0;
  }
}
