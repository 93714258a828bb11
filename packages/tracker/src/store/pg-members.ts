import type pg from 'pg';
import { inTransaction, query } from './pg-database.js';
import { inviteDetail, inviteOf, type InviteRow, memberOf, type MemberRow } from './member-rows.js';
import type { LogEntry, Member, MemberList, Redemption, StoredInvite } from './store.js';

const LOG = 'INSERT INTO member_log (at, event, subject, detail) VALUES ($1, $2, $3, $4)';

/** The members, invites and audit log of a PostgreSQL store (store.ts: MemberList), shared by every tracker of the network. */
export class PgMembers implements MemberList {
  constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
  ) {}

  async seen(identity: string, now: number): Promise<Member | undefined> {
    const rows = await query<MemberRow>(this.pool, this.location, {
      name: 'memberSeen',
      text: 'UPDATE members SET last_seen = $2 WHERE identity = $1 RETURNING *',
      values: [identity, now],
    });
    return rows.rows[0] && memberOf(rows.rows[0]);
  }

  async redeem(id: string, identity: string, now: number, proves: (secret: Buffer) => boolean): Promise<Redemption> {
    return inTransaction(this.pool, this.location, async (client): Promise<Redemption> => {
      // Locked, so that two redemptions of a last use on two trackers cannot both spend it.
      const invite = (await client.query<InviteRow>('SELECT * FROM invites WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!invite) return { refused: 'unknown' };
      const stored = inviteOf(invite);
      if (!proves(stored.secret)) return { refused: 'wrong-proof' };
      const existing = (await client.query<MemberRow>('SELECT * FROM members WHERE identity = $1', [identity])).rows[0];
      if (existing && existing.revoked_at !== null) return { refused: 'revoked' };
      if (existing) return { member: memberOf(existing) };
      if (stored.usesLeft <= 0) return { refused: 'used' };
      if (stored.expiresAt !== null && stored.expiresAt <= now) return { refused: 'expired' };
      await client.query('UPDATE invites SET uses_left = uses_left - 1 WHERE id = $1', [id]);
      const name = stored.name ?? identity.slice(0, 7);
      const invitedBy = `invite ${id} by ${stored.createdBy}`;
      const made = await client.query<MemberRow>(
        'INSERT INTO members (identity, name, invited_by, joined_at, last_seen) VALUES ($1, $2, $3, $4, $4) RETURNING *',
        [identity, name, invitedBy, now],
      );
      await client.query(LOG, [now, 'join', identity, `${name}, ${invitedBy}`]);
      return { member: memberOf(made.rows[0]!) };
    });
  }

  async enrol(identity: string, name: string, now: number): Promise<Member> {
    return inTransaction(this.pool, this.location, async (client) => {
      const made = await client.query<MemberRow>(
        "INSERT INTO members (identity, name, invited_by, joined_at, last_seen) VALUES ($1, $2, 'network key', $3, $3) ON CONFLICT (identity) DO NOTHING RETURNING *",
        [identity, name, now],
      );
      if (made.rows[0]) {
        await client.query(LOG, [now, 'enrol', identity, `${name}, network key`]);
        return memberOf(made.rows[0]);
      }
      return memberOf((await client.query<MemberRow>('SELECT * FROM members WHERE identity = $1', [identity])).rows[0]!);
    });
  }

  async invite(invite: StoredInvite): Promise<void> {
    await inTransaction(this.pool, this.location, async (client) => {
      await client.query('INSERT INTO invites (id, secret, name, uses_left, expires_at, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        invite.id,
        invite.secret,
        invite.name,
        invite.usesLeft,
        invite.expiresAt,
        invite.createdAt,
        invite.createdBy,
      ]);
      await client.query(LOG, [invite.createdAt, 'invite', invite.id, inviteDetail(invite)]);
    });
  }

  async invites(now: number): Promise<StoredInvite[]> {
    const rows = await query<InviteRow>(this.pool, this.location, {
      text: 'SELECT * FROM invites WHERE uses_left > 0 AND (expires_at IS NULL OR expires_at > $1) ORDER BY created_at, id',
      values: [now],
    });
    return rows.rows.map(inviteOf);
  }

  async uninvite(id: string, now: number, by: string): Promise<boolean> {
    return inTransaction(this.pool, this.location, async (client) => {
      if ((await client.query('DELETE FROM invites WHERE id = $1', [id])).rowCount === 0) return false;
      await client.query(LOG, [now, 'uninvite', id, `by ${by}`]);
      return true;
    });
  }

  async members(): Promise<Member[]> {
    const rows = await query<MemberRow>(this.pool, this.location, { text: 'SELECT * FROM members ORDER BY name, identity' });
    return rows.rows.map(memberOf);
  }

  async counts(): Promise<{ members: number; revoked: number }> {
    const rows = await query<{ members: number; revoked: number }>(this.pool, this.location, {
      name: 'memberCounts',
      text: 'SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS members, count(revoked_at) AS revoked FROM members',
    });
    return { members: Number(rows.rows[0]!.members), revoked: Number(rows.rows[0]!.revoked) };
  }

  async recent(limit: number): Promise<Member[]> {
    const rows = await query<MemberRow>(this.pool, this.location, { text: 'SELECT * FROM members ORDER BY last_seen DESC, identity LIMIT $1', values: [limit] });
    return rows.rows.map(memberOf);
  }

  async onlineIdentities(): Promise<Set<string>> {
    const rows = await query<{ identity: string }>(this.pool, this.location, { text: 'SELECT DISTINCT identity FROM peers' });
    return new Set(rows.rows.map((row) => row.identity));
  }

  async online(): Promise<Map<string, number>> {
    const rows = await query<{ identity: string; files: number }>(this.pool, this.location, {
      text: 'SELECT p.identity, (SELECT count(*) FROM files f WHERE f.peer_id = p.id) AS files FROM peers p',
    });
    const online = new Map<string, number>();
    for (const row of rows.rows) online.set(row.identity, (online.get(row.identity) ?? 0) + Number(row.files));
    return online;
  }

  async revoke(identity: string, now: number, by: string): Promise<boolean> {
    return inTransaction(this.pool, this.location, async (client) => {
      const revoked = await client.query<{ name: string }>('UPDATE members SET revoked_at = $1 WHERE identity = $2 AND revoked_at IS NULL RETURNING name', [now, identity]);
      if (!revoked.rows[0]) return false;
      await client.query(LOG, [now, 'revoke', identity, `${revoked.rows[0].name}, by ${by}`]);
      return true;
    });
  }

  async addSigner(identity: string, now: number): Promise<void> {
    await query(this.pool, this.location, {
      text: 'INSERT INTO ticket_signers (identity, seen_at) VALUES ($1, $2) ON CONFLICT (identity) DO UPDATE SET seen_at = excluded.seen_at',
      values: [identity, now],
    });
  }

  async signers(since: number, limit: number): Promise<string[]> {
    const rows = await query<{ identity: string }>(this.pool, this.location, {
      name: 'ticketSigners',
      text: 'SELECT identity FROM ticket_signers WHERE seen_at >= $1 ORDER BY seen_at DESC, identity LIMIT $2',
      values: [since, limit],
    });
    return rows.rows.map((row) => row.identity);
  }

  async record(entry: Omit<LogEntry, 'seq'>): Promise<void> {
    await query(this.pool, this.location, { text: LOG, values: [entry.at, entry.event, entry.subject, entry.detail] });
  }

  async log(afterSeq: number, limit: number): Promise<LogEntry[]> {
    const rows = await query<LogEntry>(this.pool, this.location, {
      name: 'memberLogAfter',
      text: 'SELECT seq, at, event, subject, detail FROM member_log WHERE seq > $1 ORDER BY seq LIMIT $2',
      values: [afterSeq, limit],
    });
    return rows.rows.map((row) => ({ ...row, seq: Number(row.seq), at: Number(row.at) }));
  }

  async lastSeq(): Promise<number> {
    const rows = await query<{ seq: number | null }>(this.pool, this.location, { text: 'SELECT max(seq) AS seq FROM member_log' });
    return Number(rows.rows[0]?.seq ?? 0);
  }
}
