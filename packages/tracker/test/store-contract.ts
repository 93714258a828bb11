import fc from 'fast-check';
import { compareRanked, type FileEntry, identityOfFingerprint, P2PError, parseSearchQuery, type SearchCursor, SearchMatcher } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrackerStore } from '../src/index.js';
import { sha } from './helpers.js';

/** A backend under test: a fresh, empty database per test, and stores opened on it for any instance. */
export interface StoreBackend {
  name: string;
  fresh(): Promise<{ open(instance?: string): Promise<TrackerStore>; dispose(): Promise<void> }>;
}

const file = (name: string, size: number, content: string): FileEntry => ({ name, size, sha256: sha(content), root: 'e'.repeat(64) });
const holder = (n: number) => ({ host: `10.0.0.${n}`, port: 4000 + n, id: identityOfFingerprint(Buffer.alloc(32, n)) });
/** A holder as the store lists it: with the root its file rows carry. */
const listed = (n: number) => ({ ...holder(n), root: 'e'.repeat(64) });
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * What every store must do, whatever its engine: the tracker relies on exactly this. Each backend's test
 * file calls this once.
 */
export function describeStoreContract(backend: StoreBackend): void {
  describe(`the store contract, on ${backend.name}`, () => {
    let db: Awaited<ReturnType<StoreBackend['fresh']>>;
    let store: TrackerStore;
    const opened: TrackerStore[] = [];
    /** A store of `instance`, joined with a long lease unless told otherwise. */
    const open = async (instance?: string, leaseMs: number | null = 600_000) => {
      const s = await db.open(instance);
      opened.push(s);
      if (leaseMs !== null) await s.membership.join(leaseMs);
      return s;
    };

    beforeEach(async () => {
      db = await backend.fresh();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await db.dispose();
    });

    it('stops removing a peer once told to, keeping it and what is left, for its next share to take over', async () => {
      const many = Array.from({ length: 3_000 }, (_, i) => file(`album/${String(i).padStart(4, '0')}.flac`, 100 + i, String(i % 10)));
      const peer = await store.putShare(undefined, holder(1), many);
      const stopped = new AbortController();
      stopped.abort();
      expect(await store.removePeer(peer, stopped.signal)).toBe(false);
      expect(await store.counts()).toEqual({ peers: 1, files: 3_000 });
      // Taken over: the same files again, and some new, under the same peer.
      const again = [...many.slice(0, 2_000), file('new.flac', 5, 'n')];
      expect(await store.putShare(peer, holder(1), again)).toBe(peer);
      expect(await store.counts()).toEqual({ peers: 1, files: 2_001 });
      expect(await store.whoHas('new.flac', 64, 64)).toEqual([{ sha256: sha('n'), size: 5, holders: [listed(1)] }]);
      expect(await store.whoHas('album/2500.flac', 64, 64)).toEqual([]);
      expect(await store.removePeer(peer, new AbortController().signal)).toBe(true);
      expect(await store.counts()).toEqual({ peers: 0, files: 0 });
      expect(await store.countContents()).toBe(0);
    });

    it('lists distinct (name, sha256) rows with sizes and holder counts, and says who holds a name', async () => {
      const a = await store.putShare(undefined, holder(1), [file('song.mp3', 10, '1'), file('doc.txt', 3, '2')]);
      const b = await store.putShare(undefined, holder(2), [file('song.mp3', 10, '1'), file('doc.txt', 4, '3')]);
      expect(a).not.toBe(b);
      expect(await store.listPage(null, 100)).toEqual([
        { name: 'doc.txt', sha256: sha('2'), size: 3, holders: 1 },
        { name: 'doc.txt', sha256: sha('3'), size: 4, holders: 1 },
        { name: 'song.mp3', sha256: sha('1'), size: 10, holders: 2 },
      ]);
      expect(await store.whoHas('song.mp3', 64, 64)).toEqual([{ sha256: sha('1'), size: 10, holders: [listed(1), listed(2)] }]);
      expect((await store.whoHas('doc.txt', 64, 64)).map((c) => c.sha256)).toEqual([sha('2'), sha('3')]);
      expect(await store.whoHas('missing', 64, 64)).toEqual([]);
      expect(await store.counts()).toEqual({ peers: 2, files: 4 });
      expect(await store.countContents()).toBe(3);
      await store.removePeer(b);
      expect(await store.countContents()).toBe(2);
    });

    it('keeps a firewalled holder flagged in its rows, counts such holders in list and search rows, and follows a re-registration', async () => {
      const open1 = await store.putShare(undefined, holder(1), [file('song.mp3', 10, '1')]);
      const row = async (name: string) => (await store.listPage(null, 100)).find((r) => r.name === name);
      expect(await row('song.mp3')).toEqual({ name: 'song.mp3', sha256: sha('1'), size: 10, holders: 1 });
      const hidden = await store.putShare(undefined, { ...holder(2), firewalled: true }, [file('song.mp3', 10, '1'), file('b.txt', 1, '2')]);
      await store.putShare(undefined, { ...holder(3), firewalled: true }, [file('song.mp3', 10, '1')]);
      expect(await store.whoHas('song.mp3', 64, 64)).toEqual([{ sha256: sha('1'), size: 10, holders: [listed(1), { ...listed(2), firewalled: true }, { ...listed(3), firewalled: true }] }]);
      expect(await store.whoHasContent(sha('1'), 64)).toEqual([listed(1), { ...listed(2), firewalled: true }, { ...listed(3), firewalled: true }]);
      expect(await row('song.mp3')).toEqual({ name: 'song.mp3', sha256: sha('1'), size: 10, holders: 3, firewalled: 2 });
      expect(await row('b.txt')).toEqual({ name: 'b.txt', sha256: sha('2'), size: 1, holders: 1, firewalled: 1 });
      expect((await store.search(parseSearchQuery('song'), null, 10, Date.now() + 60_000))[0]).toMatchObject({ holders: 3, firewalled: 2 });
      // Reachable after all (a port opened, a re-registration): the flag goes.
      const reachable = await store.putShare(hidden, holder(2), [file('song.mp3', 10, '1')]);
      expect(await row('song.mp3')).toMatchObject({ holders: 3, firewalled: 1 });
      expect(await row('b.txt')).toBeUndefined();
      await store.removePeer(open1);
      expect(await store.whoHasContent(sha('1'), 64)).toEqual([listed(2), { ...listed(3), firewalled: true }]);
      await store.removePeer(reachable);
      expect(await row('song.mp3')).toEqual({ name: 'song.mp3', sha256: sha('1'), size: 10, holders: 1, firewalled: 1 });
    });

    it('pages with a keyset cursor that visits every row exactly once', async () => {
      const files = Array.from({ length: 250 }, (_, i) => file(`f${String(i).padStart(3, '0')}`, i, 'a'));
      await store.putShare(undefined, holder(1), files);
      const seen: string[] = [];
      let after = null;
      for (;;) {
        const page = await store.listPage(after, 100);
        seen.push(...page.map((f) => f.name));
        if (page.length < 100) break;
        after = { name: page.at(-1)!.name, sha256: page.at(-1)!.sha256 };
      }
      expect(seen).toEqual(files.map((f) => f.name));
    });

    it('orders names by their UTF-8 bytes, not by locale or UTF-16', async () => {
      // UTF-16 puts the emoji (a surrogate pair) before U+FF5E; UTF-8 puts it after.
      const names = ['b', 'B', 'a', 'é', 'z', '中', '🎵', 'Z', 'a b', 'a-b', 'ab', '～'];
      await store.putShare(undefined, holder(1), names.map((n, i) => file(n, i, '1')));
      expect((await store.listPage(null, 100)).map((r) => r.name)).toEqual([...names].sort(utf8Order));
    });

    it('replaces a share as a whole, moves its holder to the new port, and removes every row of a peer that leaves', async () => {
      const a = await store.putShare(undefined, holder(1), [file('old', 1, '1')]);
      expect(await store.putShare(a, { ...holder(1), port: 4005 }, [file('new', 1, '1')])).toBe(a);
      const b = await store.putShare(undefined, holder(2), [file('kept', 1, '2')]);
      expect((await store.whoHas('new', 64, 64))[0]!.holders).toEqual([{ ...listed(1), port: 4005 }]);
      expect(await store.whoHas('old', 64, 64)).toEqual([]);
      await store.removePeer(a);
      expect(await store.counts()).toEqual({ peers: 1, files: 1 });
      expect((await store.listPage(null, 10)).map((f) => f.name)).toEqual(['kept']);
      await store.removePeer(b);
      expect(await store.counts()).toEqual({ peers: 0, files: 0 });
    });

    it('refuses a share that names a file twice, in one call changing nothing', async () => {
      const a = await store.putShare(undefined, holder(1), [file('before', 1, '1')]);
      const twice = [file('x', 1, '1'), file('x', 2, '2')];
      await expect(store.putShare(a, holder(1), twice)).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
      expect((await store.listPage(null, 10)).map((f) => f.name)).toEqual(['before']);
      await expect(store.putShare(undefined, holder(2), twice)).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
      expect(await store.counts()).toEqual({ peers: 1, files: 1 });
    });

    it('takes a registration in chunks: each listed as it comes, a name sent twice refused, and what it did not send again gone at its end', async () => {
      const a = await store.putShare(undefined, holder(1), [file('kept', 1, '1'), file('changed', 1, '2'), file('dropped', 1, '3')]);
      const { peer, generation } = await store.startShare(a, holder(1));
      expect(peer).toBe(a);
      await store.addShareFiles(peer, generation, [file('kept', 1, '1'), file('changed', 2, '4')]);
      // Half way: the new chunk is there, and what the last registration had is there until the end.
      expect((await store.listPage(null, 10)).map((f) => `${f.name}:${f.size}`)).toEqual(['changed:2', 'dropped:1', 'kept:1']);
      await expect(store.addShareFiles(peer, generation, [file('kept', 1, '1')])).rejects.toMatchObject({ code: 'DUPLICATE_NAME' });
      await store.addShareFiles(peer, generation, [file('new', 5, '5')]);
      expect(await store.finishShare(peer, generation)).toBe(3);
      expect((await store.listPage(null, 10)).map((f) => `${f.name}:${f.size}:${f.holders}`)).toEqual(['changed:2:1', 'kept:1:1', 'new:5:1']);
      expect(await store.search(parseSearchQuery('dropped'), null, 10, Date.now() + 60_000)).toEqual([]);
      expect(await store.whoHasContent(sha('2'), 64)).toEqual([]);
      expect(await store.counts()).toEqual({ peers: 1, files: 3 });
      await store.removePeer(a);
      expect(await store.counts()).toEqual({ peers: 0, files: 0 });
      expect(await store.countContents()).toBe(0);
    });

    it('applies a delta to a share, and says beforehand how big it would make it', async () => {
      const a = await store.putShare(undefined, holder(1), [file('keep', 1, '1'), file('drop', 1, '2'), file('change', 1, '3')]);
      const added = [file('change', 2, '4'), file('new', 5, '5')];
      expect(await store.countAfterUpdate(a, added, ['drop', 'never-there'])).toBe(3);
      expect(await store.countAfterUpdate(a, [file('keep', 1, '1')], ['keep'])).toBe(3);
      expect(await store.countAfterUpdate(a, [file('one', 1, '6'), file('two', 1, '7')], [])).toBe(5);
      expect(await store.updateShare(a, added, ['drop', 'never-there'])).toBe(3);
      expect((await store.listPage(null, 10)).map((f) => `${f.name}:${f.size}`)).toEqual(['change:2', 'keep:1', 'new:5']);
      expect(await store.whoHasContent(sha('3'), 64)).toEqual([]);
      expect(await store.whoHasContent(sha('4'), 64)).toEqual([listed(1)]);
    });

    it('finds the holders of a content under any name, each once, at most as many as asked', async () => {
      await store.putShare(undefined, holder(1), [file('music/song.flac', 9, '9'), file('copy.flac', 9, '9')]);
      await store.putShare(undefined, holder(2), [file('renamed.flac', 9, '9'), file('other', 1, '8')]);
      await store.putShare(undefined, holder(3), [file('third.flac', 9, '9')]);
      expect(await store.whoHasContent(sha('9'), 64)).toEqual([listed(1), listed(2), listed(3)]);
      expect(await store.whoHasContent(sha('9'), 2)).toHaveLength(2);
      expect(await store.whoHasContent(sha('7'), 64)).toEqual([]);
    });

    it('answers who-has with at most maxContents contents of at most maxHolders holders', async () => {
      for (let p = 1; p <= 4; p++) await store.putShare(undefined, holder(p), [file('same', p % 3, String(p % 3))]);
      const contents = await store.whoHas('same', 2, 1);
      expect(contents).toHaveLength(2);
      for (const content of contents) expect(content.holders).toHaveLength(1);
    });
    it("answers who-has fairly: one sender's many contents or holders cannot hide another's", async () => {
      // One machine (10.0.0.1) registers 70 fake contents under a name, and 70 holders of one content.
      const fakeSender = (n: number) => ({ host: '10.0.0.1', port: 5000 + n, id: identityOfFingerprint(Buffer.alloc(32, n)) });
      for (let n = 0; n < 70; n++) await store.putShare(undefined, fakeSender(n), [file('ubuntu.iso', 7, `0${n}`), file('popular.iso', 9, 'p')]);
      // The real content, and a real holder of the popular one, from another machine, registered last.
      await store.putShare(undefined, holder(2), [file('ubuntu.iso', 3, 'real'), file('popular.iso', 9, 'p')]);
      const contents = await store.whoHas('ubuntu.iso', 64, 64);
      expect(contents).toHaveLength(64);
      expect(contents.map((c) => c.sha256)).toContain(sha('real'));
      // Asked for exactly, a content is found whatever else is under its name.
      expect(await store.whoHas('ubuntu.iso', 64, 64, sha('real'))).toEqual([{ sha256: sha('real'), size: 3, holders: [listed(2)] }]);
      expect(await store.whoHas('ubuntu.iso', 64, 64, sha('nothing'))).toEqual([]);
      const holders = await store.whoHasContent(sha('p'), 64);
      expect(holders).toHaveLength(64);
      expect(holders).toContainEqual(listed(2));
      // In turns: the other machine's holder comes second, right after the first machine's first.
      expect((await store.whoHas('popular.iso', 64, 64))[0]!.holders[1]).toEqual(listed(2));
    });

    it('lists reachable holders before firewalled ones of the same turn', async () => {
      await store.putShare(undefined, { ...holder(1), firewalled: true }, [file('x', 1, 'x')]);
      await store.putShare(undefined, holder(2), [file('x', 1, 'x')]);
      expect((await store.whoHasContent(sha('x'), 1))).toEqual([listed(2)]);
      expect((await store.whoHas('x', 64, 1))[0]!.holders).toEqual([listed(2)]);
    });


    it("forgets what a previous run of its own instance left when it joins, and nothing of another instance's", async () => {
      const mine = await open('tracker-a');
      const theirs = await open('tracker-b');
      await mine.putShare(undefined, holder(1), [file('from-a', 1, '1')]);
      await theirs.putShare(undefined, holder(2), [file('from-b', 1, '2')]);
      const restarted = await open('tracker-a', null);
      expect(await restarted.membership.join(600_000)).toBe(1);
      expect((await restarted.listPage(null, 10)).map((f) => f.name)).toEqual(['from-b']);
      expect(await restarted.search(parseSearchQuery('from'), null, 10, Date.now() + 60_000)).toHaveLength(1);
      expect(await restarted.membership.join(600_000)).toBe(0);
    });

    it('tells the lease of its instance as the database holds it: none before joining or after leaving, a new end with each renewal', async () => {
      const tracker = await open('leased', null);
      expect(await tracker.membership.leaseOf()).toBeUndefined();
      await tracker.membership.join(60_000);
      const joined = await tracker.membership.leaseOf();
      expect(joined!.leftMs).toBeGreaterThan(50_000);
      expect(joined!.leftMs).toBeLessThanOrEqual(60_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await tracker.membership.renewLease(60_000);
      expect((await tracker.membership.leaseOf())!.until).toBeGreaterThan(joined!.until);
      await tracker.membership.leave();
      expect(await tracker.membership.leaseOf()).toBeUndefined();
    });

    it('removes the peers of an instance whose lease lapsed, only once it lapsed, and tells that instance', async () => {
      const dying = await open('dying');
      const living = await open('living');
      await dying.putShare(undefined, holder(1), [file('shared', 1, '1'), file('only-dying', 1, '2')]);
      // Enough peers that a store removing them in batches needs several.
      for (let p = 2; p <= 250; p++) await dying.putShare(undefined, holder(p % 250), [file(`only-dying ${p}`, 1, '3')]);
      await living.putShare(undefined, holder(2), [file('shared', 1, '1')]);
      expect(await living.membership.sweepLapsed()).toBe(0);
      expect(await dying.membership.renewLease(300)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await living.membership.sweepLapsed()).toBe(250);
      expect(await living.listPage(null, 10)).toEqual([{ name: 'shared', sha256: sha('1'), size: 1, holders: 1 }]);
      expect(await living.search(parseSearchQuery('dying'), null, 10, Date.now() + 60_000)).toEqual([]);
      expect(await living.counts()).toEqual({ peers: 1, files: 1 });
      expect(await dying.membership.renewLease(300)).toBe(false);
      // Joining again starts afresh.
      expect(await dying.membership.join(600_000)).toBe(0);
      expect(await dying.membership.renewLease(600_000)).toBe(true);
      expect(await living.membership.sweepLapsed()).toBe(0);
    });

    it('leaves with every peer it still had, and keeps the others', async () => {
      const leaving = await open('leaving');
      const staying = await open('staying');
      await leaving.putShare(undefined, holder(1), [file('a', 1, '1'), file('b', 1, '2')]);
      await staying.putShare(undefined, holder(2), [file('b', 1, '2')]);
      await leaving.membership.leave();
      expect(await staying.listPage(null, 10)).toEqual([{ name: 'b', sha256: sha('2'), size: 1, holders: 1 }]);
      expect(await staying.counts()).toEqual({ peers: 1, files: 1 });
    });

    it("keeps the network's bans for every tracker of it: until a time or for good, replaced, lifted, and gone once ended", async () => {
      const banning = await open('banning');
      const other = await open('other');
      const now = 1_800_000_000_000;
      await banning.bans.ban('2001:db8::/64', now + 60_000, now);
      await banning.bans.ban('IDENTITY-A', null, now);
      await banning.bans.ban('10.0.0.9', now + 1_000, now);
      expect(await other.bans.inForce(now)).toEqual([
        { target: '10.0.0.9', until: now + 1_000, at: now },
        { target: '2001:db8::/64', until: now + 60_000, at: now },
        { target: 'IDENTITY-A', until: null, at: now },
      ]);
      // A ban made again replaces the one there; one that ended is no longer in force.
      await other.bans.ban('IDENTITY-A', now + 5_000, now + 10);
      expect(await banning.bans.inForce(now + 1_000)).toEqual([
        { target: '2001:db8::/64', until: now + 60_000, at: now },
        { target: 'IDENTITY-A', until: now + 5_000, at: now + 10 },
      ]);
      expect(await banning.bans.unban('2001:db8::/64')).toBe(true);
      expect(await banning.bans.unban('2001:db8::/64')).toBe(false);
      expect(await other.bans.inForce(now + 5_000)).toEqual([]);
    });

    it("keeps the network's members, invites and audit log for every tracker of it; an invite's last use is spent once", async () => {
      const inviting = await open('inviting');
      const other = await open('other');
      const now = 1_800_000_000_000;
      const secret = Buffer.alloc(32, 1);
      const invite = { id: 'AAAAAAAAAA', secret, name: 'alice', usesLeft: 1, expiresAt: now + 60_000, createdAt: now, createdBy: 'op@host' };
      await inviting.members.invite(invite);
      await inviting.members.invite({ ...invite, id: 'BBBBBBBBBB', name: null, expiresAt: now - 1 });
      expect(await other.members.invites(now)).toEqual([invite]);
      const proves = (s: Buffer) => s.equals(secret);
      expect(await other.members.redeem('AAAAAAAAAA', 'ID-A', now + 1, () => false)).toEqual({ refused: 'wrong-proof' });
      expect(await other.members.redeem('CCCCCCCCCC', 'ID-A', now + 1, proves)).toEqual({ refused: 'unknown' });
      expect(await other.members.redeem('BBBBBBBBBB', 'ID-A', now + 1, proves)).toEqual({ refused: 'expired' });
      // Two trackers redeem the last use at once: one member is made, the other is told it was used.
      const both = await Promise.all([inviting.members.redeem('AAAAAAAAAA', 'ID-A', now + 2, proves), other.members.redeem('AAAAAAAAAA', 'ID-B', now + 2, proves)]);
      expect(both.filter((r) => 'member' in r)).toHaveLength(1);
      expect(both.filter((r) => 'refused' in r)).toEqual([{ refused: 'used' }]);
      const joined = both.find((r) => 'member' in r) as { member: { identity: string } };
      const member = { identity: joined.member.identity, name: 'alice', invitedBy: 'invite AAAAAAAAAA by op@host', joinedAt: now + 2, lastSeen: now + 2, revokedAt: null };
      expect(await inviting.members.members()).toEqual([member]);
      // A member redeeming again spends nothing and is simply itself.
      expect(await other.members.redeem('AAAAAAAAAA', member.identity, now + 3, proves)).toEqual({ member });
      expect(await other.members.seen(member.identity, now + 4)).toEqual({ ...member, lastSeen: now + 4 });
      expect(await other.members.seen('ID-NOBODY', now + 4)).toBeUndefined();
      expect(await other.members.enrol('ID-K', 'ID-K', now + 5)).toMatchObject({ identity: 'ID-K', invitedBy: 'network key', revokedAt: null });
      expect(await other.members.enrol('ID-K', 'other name', now + 6)).toMatchObject({ name: 'ID-K', joinedAt: now + 5 });
      expect(await inviting.members.revoke(member.identity, now + 7, 'op@host')).toBe(true);
      expect(await inviting.members.revoke(member.identity, now + 8, 'op@host')).toBe(false);
      expect(await other.members.redeem('AAAAAAAAAA', member.identity, now + 9, proves)).toEqual({ refused: 'revoked' });
      expect(await other.members.uninvite('BBBBBBBBBB', now + 9, 'op@host')).toBe(true);
      expect(await other.members.uninvite('BBBBBBBBBB', now + 9, 'op@host')).toBe(false);
      await other.members.record({ at: now + 10, event: 'ban', subject: '10.0.0.9', detail: 'for good, by op@host' });
      const log = await inviting.members.log(0, 100);
      expect(log.map((e) => [e.event, e.subject])).toEqual([
        ['invite', 'AAAAAAAAAA'],
        ['invite', 'BBBBBBBBBB'],
        ['join', member.identity],
        ['enrol', 'ID-K'],
        ['revoke', member.identity],
        ['uninvite', 'BBBBBBBBBB'],
        ['ban', '10.0.0.9'],
      ]);
      expect(log[4]).toMatchObject({ at: now + 7, detail: 'alice, by op@host' });
      expect(await other.members.lastSeq()).toBe(log.at(-1)!.seq);
      expect(await other.members.log(log[4]!.seq, 1)).toEqual([log[5]]);
      expect(await other.members.counts()).toEqual({ members: 1, revoked: 1 });
      expect((await other.members.recent(1)).map((m) => m.identity)).toEqual(['ID-K']);
    });

    it('knows the trackers that sign tickets, newest first, forgetting those not heard of since a time', async () => {
      const other = await open('other');
      await store.members.addSigner('TRACKER-A', 1_000);
      await other.members.addSigner('TRACKER-B', 2_000);
      await store.members.addSigner('TRACKER-A', 3_000);
      expect(await other.members.signers(0, 16)).toEqual(['TRACKER-A', 'TRACKER-B']);
      expect(await other.members.signers(2_500, 16)).toEqual(['TRACKER-A']);
      expect(await store.members.signers(0, 1)).toEqual(['TRACKER-A']);
    });

    it("finds a holder by address, identity start or member name, and pages its own files in list order, each content once", async () => {
      const first = await store.putShare(undefined, holder(1), [file('b', 2, 'b'), file('a', 1, 'a'), file('c/d', 3, 'd')]);
      // The same person sharing a second folder: another peer of the same identity.
      const second = await store.putShare(undefined, { ...holder(1), port: 5001 }, [file('b', 2, 'b'), file('e', 5, 'e')]);
      await store.putShare(undefined, holder(2), [file('a', 1, 'a'), file('z', 9, 'z')]);
      const byAddress = await store.findHolders({ host: '10.0.0.1', port: 4001 }, 2);
      expect(byAddress).toEqual([{ identity: holder(1).id, peers: [first] }]);
      const [one] = await store.findHolders({ identityStart: holder(1).id.slice(0, 9) }, 2);
      expect(one).toEqual({ identity: holder(1).id, peers: [first, second] });
      expect(await store.findHolders({ identityStart: holder(3).id.slice(0, 7) }, 2)).toEqual([]);
      expect(await store.findHolders({ member: 'alice' }, 2)).toEqual([]);
      await store.members.enrol(holder(2).id, 'alice', 1);
      expect(await store.findHolders({ member: 'alice' }, 2)).toEqual([{ identity: holder(2).id, member: 'alice', peers: [expect.any(Number)] }]);
      expect(await store.findHolders({ host: '10.0.0.2', port: 4002 }, 2)).toEqual([{ identity: holder(2).id, member: 'alice', peers: [expect.any(Number)] }]);
      await store.members.revoke(holder(2).id, 2, 'op');
      expect(await store.findHolders({ member: 'alice' }, 2)).toEqual([]);

      const page1 = await store.holderPage(one!.peers, null, 2);
      expect(page1).toEqual([
        { name: 'a', size: 1, sha256: sha('a'), holders: 2 },
        { name: 'b', size: 2, sha256: sha('b'), holders: 2 },
      ]);
      const page2 = await store.holderPage(one!.peers, { name: 'b', sha256: sha('b') }, 2);
      expect(page2.map((r) => r.name)).toEqual(['c/d', 'e']);
      expect(await store.holderPage(one!.peers, { name: 'e', sha256: sha('e') }, 2)).toEqual([]);
    });

    it('says which identities are online and how many files each shares', async () => {
      await store.putShare(undefined, holder(1), [file('a', 1, '1'), file('b', 1, '2')]);
      await store.putShare(undefined, holder(1), [file('c', 1, '3')]);
      await store.putShare(undefined, holder(2), []);
      expect(await store.members.online()).toEqual(new Map([[holder(1).id, 3], [holder(2).id, 0]]));
      expect(await store.members.onlineIdentities()).toEqual(new Set([holder(1).id, holder(2).id]));
    });

    describe('search', () => {
      const later = () => Date.now() + 60_000;
      const names = async (query: string, after: SearchCursor | null = null, limit = 100) =>
        (await store.search(parseSearchQuery(query), after, limit, later())).map((r) => `${r.rank} ${r.holders} ${r.name}`);

      it('finds words inside names, best first: in the file name, then more holders, then name', async () => {
        await store.putShare(undefined, holder(1), [
          file('The Beatles/Abbey Road/Come Together.flac', 30, '1'),
          file('Covers/beatles medley.mp3', 5, '2'),
          file('Covers/Beatles Forever.mp3', 5, '3'),
          file('Café/Ingrata.mp3', 5, '4'),
        ]);
        await store.putShare(undefined, holder(2), [file('Covers/Beatles Forever.mp3', 5, '3')]);
        expect(await names('BEAT')).toEqual(['0 2 Covers/Beatles Forever.mp3', '0 1 Covers/beatles medley.mp3', '1 1 The Beatles/Abbey Road/Come Together.flac']);
        expect(await names('cafe')).toEqual(['1 1 Café/Ingrata.mp3']);
        expect(await names('beatles -forever ext:mp3')).toEqual(['0 1 Covers/beatles medley.mp3']);
        expect(await names('"abbey road" size>10')).toEqual(['1 1 The Beatles/Abbey Road/Come Together.flac']);
        expect(await names('"abbey road" size<10')).toEqual([]);
      });

      it('never finds a file of a peer that left, or a name a share no longer has', async () => {
        const a = await store.putShare(undefined, holder(1), [file('gone/song.mp3', 1, '1'), file('kept/song.mp3', 1, '2')]);
        const b = await store.putShare(undefined, holder(2), [file('kept/song.mp3', 1, '2')]);
        await store.updateShare(b, [file('renamed/song.mp3', 1, '2')], ['kept/song.mp3']);
        expect(await names('song')).toEqual(['0 1 gone/song.mp3', '0 1 kept/song.mp3', '0 1 renamed/song.mp3']);
        await store.removePeer(a);
        expect(await names('song')).toEqual(['0 1 renamed/song.mp3']);
        await store.updateShare(b, [file('renamed/song.mp3', 2, '3')], []);
        expect((await store.search(parseSearchQuery('song'), null, 10, later())).map((r) => r.sha256)).toEqual([sha('3')]);
        await store.putShare(b, holder(2), [file('other.txt', 1, '4')]);
        expect(await names('song')).toEqual([]);
        expect(await names('other')).toEqual(['0 1 other.txt']);
      });

      it('pages with a cursor that visits every match exactly once, in order', async () => {
        const files = Array.from({ length: 230 }, (_, i) => file(`${i % 3 ? 'a' : 'b'}/track ${String(i).padStart(3, '0')}.mp3`, i, String(i)));
        await store.putShare(undefined, holder(1), files);
        await store.putShare(undefined, holder(2), files.slice(0, 40));
        const seen: SearchCursor[] = [];
        let after: SearchCursor | null = null;
        for (;;) {
          const page = await store.search(parseSearchQuery('track'), after, 50, later());
          seen.push(...page);
          if (page.length < 50) break;
          after = page[page.length - 1]!;
        }
        expect(seen).toHaveLength(230);
        expect([...seen].sort(compareRanked)).toEqual(seen);
        expect(seen.slice(0, 40).every((r) => r.holders === 2)).toBe(true);
      });

      it('stops a search that runs past its deadline with SEARCH_TIMEOUT', async () => {
        // Every name matches, in a folder's name only: no page is settled until every candidate was seen.
        await store.putShare(undefined, holder(1), Array.from({ length: 600 }, (_, i) => file(`songs/track ${i}.mp3`, i, String(i))));
        const error = await store.search(parseSearchQuery('songs'), null, 10, Date.now()).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(P2PError);
        expect((error as P2PError).code).toBe('SEARCH_TIMEOUT');
      });

      it('finds exactly what the query language says, whatever is typed (fuzzed against a scan of every name)', async () => {
        const parts = ['Beat', 'les', 'Café', 'cafe', 'ＡＢ', 'ß', 'ss', 'u2', 'a', ' ', '/', '.', '-', '"', '*', '(', ')', ':', 'NEAR', 'AND', 'OR', 'NOT', '{name}', "'", ';', 'x', 'é', 'e\u0301', '東京', 'の'];
        const text = (max: number) => fc.array(fc.constantFrom(...parts), { minLength: 1, maxLength: max }).map((p) => p.join(''));
        const shareNames = fc.uniqueArray(text(6).map((n) => n.replaceAll(/\/+/g, '/').replace(/^[/ .]+|[/ .]+$/g, '').replaceAll(/\/[ .]*\//g, '/x/')), { minLength: 1, maxLength: 25 });
        await fc.assert(
          fc.asyncProperty(shareNames, fc.array(text(5), { minLength: 1, maxLength: 4 }), async (rawNames, queries) => {
            const valid = rawNames.filter((n) => n.length > 0 && !n.split('/').some((s) => s === '' || s === '.' || s === '..'));
            const entries = [...new Set(valid)].map((n, i) => file(n, i, n));
            const peer = await store.putShare(undefined, holder(1), entries);
            try {
              for (const query of queries) {
                let parsed;
                try {
                  parsed = parseSearchQuery(query);
                } catch {
                  continue;
                }
                const matcher = new SearchMatcher(parsed);
                const expected = entries.filter((e) => matcher.rank(e.name, e.size) !== undefined).map((e) => e.name).sort();
                const found = (await store.search(parsed, null, 1_000, later())).map((r) => r.name).sort();
                expect(found).toEqual(expected);
              }
            } finally {
              await store.removePeer(peer);
            }
          }),
          { numRuns: 150 },
        );
      });
    });
  });
}
