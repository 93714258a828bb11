import { join } from 'node:path';
import { generateInvite, generateNetworkKey, P2PError, parseNetworkKey, RemoteError, TicketChecker, TrackerSession } from '@p2pservice/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';
import { tempDir } from './helpers.js';

/* A members network as the wire shows it: invites redeemed once, revocation at once, tickets for holders. */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker | undefined;
afterEach(async () => {
  await tracker?.close();
  tracker = undefined;
  dir.remove();
});

async function membersTracker(options: { networkKey?: Buffer; ticketLifetimeMs?: number } = {}): Promise<TestTracker> {
  dir = tempDir();
  tracker = await startTestTracker(join(dir.path, 'members.db'), {
    network: 'members',
    ...(options.networkKey && { networkKey: options.networkKey }),
    limits: { banRefreshMs: 20, ...(options.ticketLifetimeMs && { ticketLifetimeMs: options.ticketLifetimeMs }) },
  });
  return tracker;
}

/** An invite stored as `tracker invite` stores it. */
async function invite(t: TestTracker, overrides: { uses?: number; expiresAt?: number | null; name?: string } = {}) {
  const fresh = generateInvite();
  await t.store.members.invite({
    id: fresh.id,
    secret: fresh.secret,
    name: overrides.name ?? 'alice',
    usesLeft: overrides.uses ?? 1,
    expiresAt: overrides.expiresAt === undefined ? Date.now() + 60_000 : overrides.expiresAt,
    createdAt: Date.now(),
    createdBy: 'test@host',
  });
  return fresh;
}

const open = (t: TestTracker, as: string, extra: { invite?: ReturnType<typeof generateInvite>; networkKey?: Buffer } = {}) =>
  TrackerSession.open({ ...t.address, ...(extra.invite && { invite: extra.invite }) }, { transport: tlsAs(as), ...(extra.networkKey && { networkKey: extra.networkKey }) });

async function refusal(opening: Promise<TrackerSession>): Promise<RemoteError> {
  const error = await opening.then(
    (session) => {
      void session.close();
      throw new Error('was welcomed');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteError);
  return error as RemoteError;
}

describe('a members network', () => {
  it('admits an identity by invite once, knows it by its identity after, and refuses strangers', async () => {
    const t = await membersTracker();
    expect((await refusal(open(t, 'peer'))).said).toMatch(/admits its members only, and this identity is none: ask its operator for an invite/);
    const link = await invite(t);
    const session = await open(t, 'peer', { invite: link });
    expect(session.welcome).toMatchObject({ network: 'members', member: { name: 'alice' } });
    const checker = new TicketChecker((signer) => signer === testIdentity('tracker').id);
    expect(checker.problem(session.welcome!.ticket!, testIdentity('peer').id, Date.now())).toBeUndefined();
    expect(checker.problem(session.welcome!.ticket!, testIdentity('other').id, Date.now())).toMatch(/another identity/);
    await session.close();
    // A member needs no invite any more; the same link, used up, admits nobody else.
    const again = await open(t, 'peer', { invite: link });
    expect(again.welcome?.member?.name).toBe('alice');
    await again.close();
    expect((await refusal(open(t, 'other', { invite: link }))).said).toMatch(/has been used already/);
    const [member] = await t.store.members.members();
    expect(member).toMatchObject({ identity: testIdentity('peer').id, name: 'alice', invitedBy: `invite ${link.id} by test@host`, revokedAt: null });
  });

  it('refuses an expired, withdrawn or mistyped invite and changes nothing', async () => {
    const t = await membersTracker();
    const expired = await invite(t, { expiresAt: Date.now() - 1 });
    expect((await refusal(open(t, 'peer', { invite: expired }))).said).toMatch(/has expired/);
    const withdrawn = await invite(t);
    await t.store.members.uninvite(withdrawn.id, Date.now(), 'test@host');
    expect((await refusal(open(t, 'peer', { invite: withdrawn }))).said).toMatch(/is not known here/);
    const good = await invite(t);
    expect((await refusal(open(t, 'peer', { invite: { id: good.id, secret: Buffer.alloc(32, 7) } }))).said).toMatch(/does not match its secret/);
    expect(await t.store.members.members()).toEqual([]);
    expect((await t.store.members.invites(Date.now())).map((i) => [i.id, i.usesLeft])).toEqual([[good.id, 1]]);
  });

  it('closes a revoked member’s connection at once and refuses it after, saying so', async () => {
    const t = await membersTracker();
    const session = await open(t, 'peer', { invite: await invite(t) });
    await t.store.members.revoke(testIdentity('peer').id, Date.now(), 'test@host');
    await session.whenClosed;
    await expect(session.ping()).rejects.toBeInstanceOf(P2PError);
    expect((await refusal(open(t, 'peer'))).said).toMatch(/^this identity \(alice\) was revoked from the network at \d{4}-/);
    expect((await t.store.members.log(0, 10)).map((e) => e.event)).toEqual(['invite', 'join', 'revoke']);
  });

  it('lets a key-holder enrol itself when the members network has a key too', async () => {
    const key = parseNetworkKey(generateNetworkKey());
    const t = await membersTracker({ networkKey: key });
    const session = await open(t, 'peer', { networkKey: key });
    expect(session.welcome?.network).toBe('members');
    await session.close();
    expect(await t.store.members.members()).toMatchObject([{ identity: testIdentity('peer').id, invitedBy: 'network key' }]);
  });

  it('renews tickets, signing anew only when the last one has aged', async () => {
    const t = await membersTracker({ ticketLifetimeMs: 60_000 });
    const session = await open(t, 'peer', { invite: await invite(t) });
    const first = await session.renewTicket();
    expect(await session.renewTicket()).toEqual(first);
    expect(first.until).toBeGreaterThan(Date.now() + 50_000);
    await session.close();
  });
});
