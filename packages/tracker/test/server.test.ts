import { join } from 'node:path';
import { TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listeningPort } from '@p2pservice/test-support/processes';
import { registerFrom } from '@p2pservice/test-support/register-from';
import { slowTlsClient, tlsAs } from '@p2pservice/test-support/tls';
import { encodeFrame, rawClient, sha, startTracker, tempDir, type TestTracker, asPeer, peerId } from './helpers.js';
import { eventually } from '@p2pservice/test-support/wait';

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
let port: number;
const address = () => ({ host: '127.0.0.1', port });

beforeEach(async () => {
  dir = tempDir();
  tracker = await startTracker(join(dir.path, 'tracker.db'), { handshakeTimeoutMs: 300, maxFilesPerShare: 5_000 });
  port = tracker.address.port;
});
afterEach(async () => {
  await tracker.close();
  dir.remove();
});

describe('tracker conversation', () => {
  it('registers a share, lists it, answers who-has with the address seen on the socket', async () => {
    const peer = await TrackerSession.open(address(), asPeer);
    expect(await peer.register(5555, [{ name: 'a/b.txt', size: 7, sha256: sha('b'), root: 'e'.repeat(64) }])).toBe(1);
    const client = await TrackerSession.open(address(), asPeer);
    const files = [];
    for await (const entry of client.list()) files.push(entry);
    expect(files).toEqual([{ name: 'a/b.txt', size: 7, sha256: sha('b'), holders: 1 }]);
    expect(await client.whoHas('a/b.txt')).toEqual([{ sha256: sha('b'), size: 7, holders: [{ host: '127.0.0.1', port: 5555, id: peerId, root: 'e'.repeat(64) }] }]);
    expect(await client.whoHas('nope')).toEqual([]);
    await client.close();
    await peer.close();
  });

  it('answers who holds a content under any name', async () => {
    const a = await TrackerSession.open(address(), asPeer);
    await a.register(6001, [{ name: 'music/song.flac', size: 9, sha256: sha('9'), root: 'e'.repeat(64) }]);
    const b = await TrackerSession.open(address(), asPeer);
    await b.register(6002, [{ name: 'renamed copy.flac', size: 9, sha256: sha('9'), root: 'e'.repeat(64) }, { name: 'other', size: 1, sha256: sha('8'), root: 'e'.repeat(64) }]);
    expect(await b.whoHasContent(sha('9'))).toEqual([{ host: '127.0.0.1', port: 6001, id: peerId, root: 'e'.repeat(64) }, { host: '127.0.0.1', port: 6002, id: peerId, root: 'e'.repeat(64) }]);
    expect(await b.whoHasContent(sha('7'))).toEqual([]);
    await a.close();
    await b.close();
  });

  it('drops the peer and all its rows the moment its connection ends, however it ends', async () => {
    const polite = await TrackerSession.open(address(), asPeer);
    await polite.register(1001, [{ name: 'polite', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const crashed = await rawClient(port);
    await crashed.send({ type: 'register', id: 1, listenPort: 1002, files: [{ name: 'crashed', size: 1, sha256: sha('2'), root: 'e'.repeat(64) }], more: false });
    expect(await crashed.receive()).toMatchObject({ type: 'registered', files: 1, complete: true });
    const stays = await TrackerSession.open(address(), asPeer);
    await stays.register(1003, [{ name: 'stays', size: 1, sha256: sha('3'), root: 'e'.repeat(64) }]);
    expect(await tracker.store.counts()).toEqual({ peers: 3, files: 3 });

    await polite.close();
    crashed.socket.destroy();
    await eventually(async () => (await tracker.store.counts()).peers === 1);
    expect((await tracker.store.listPage(null, 10)).map((f) => f.name)).toEqual(['stays']);
    await stays.close();
  });

  it('stores a share sent in chunks as they come, and answers each chunk with the count so far', async () => {
    const files = Array.from({ length: 4_500 }, (_, i) => ({ name: `f/${i}`, size: i, sha256: sha('c'), root: 'e'.repeat(64) }));
    const peer = await TrackerSession.open(address(), asPeer);
    expect(await peer.register(2000, files)).toBe(4_500);
    expect((await tracker.store.counts()).files).toBe(4_500);
    const client = await TrackerSession.open(address(), asPeer);
    let count = 0;
    for await (const _ of client.list(1000)) count++;
    expect(count).toBe(4_500);

    // Listed from its first chunk on (its port was checked then); the registration is not over.
    const partial = await rawClient(port);
    await partial.send({ type: 'register', id: 1, listenPort: 2001, files: [{ name: 'half', size: 1, sha256: sha('d'), root: 'e'.repeat(64) }], more: true });
    expect(await partial.receive()).toMatchObject({ type: 'registered', files: 1, complete: false });
    expect((await client.whoHas('half')).map((c) => c.sha256)).toEqual([sha('d')]);
    // A name sent again in the same registration, even in another chunk, is refused; the peer leaves.
    await partial.send({ type: 'register', id: 2, listenPort: 2001, files: [{ name: 'half', size: 1, sha256: sha('d'), root: 'e'.repeat(64) }], more: false });
    expect(await partial.receive()).toMatchObject({ type: 'error', code: 'DUPLICATE_NAME' });
    await eventually(async () => (await client.whoHas('half')).length === 0);
    await client.close();
    await peer.close();
  });

  it('replaces a share registered again on the same connection: unchanged files stay, the others come and go', async () => {
    const client = await rawClient(port);
    const entry = (name: string, content: string) => ({ name, size: 1, sha256: sha(content), root: 'e'.repeat(64) });
    await client.send({ type: 'register', id: 1, listenPort: 2001, files: [entry('same', '1'), entry('gone', '2')], more: false });
    expect(await client.receive()).toMatchObject({ type: 'registered', files: 2, complete: true });
    await client.send({ type: 'register', id: 2, listenPort: 2001, files: [entry('same', '1')], more: true });
    expect(await client.receive()).toMatchObject({ type: 'registered', files: 1, complete: false });
    await client.send({ type: 'register', id: 3, listenPort: 2001, files: [entry('new', '3')], more: false });
    expect(await client.receive()).toMatchObject({ type: 'registered', files: 2, complete: true });
    await eventually(async () => (await tracker.store.listPage(null, 10)).map((f) => f.name).join() === 'new,same');
    client.socket.destroy();
  });
});

describe('search', () => {
  it('answers a page of matches, best first, and pages on with its cursor', async () => {
    const a = await TrackerSession.open(address(), asPeer);
    await a.register(6001, [
      { name: 'Music/Sigur Rós/Ágætis byrjun/Svefn-g-englar.flac', size: 3_000_000, sha256: sha('1'), root: 'e'.repeat(64) },
      { name: 'Music/Beatles/Help.mp3', size: 4_000, sha256: sha('2'), root: 'e'.repeat(64) },
      { name: 'Music/Covers/Beatles Medley.mp3', size: 5_000, sha256: sha('3'), root: 'e'.repeat(64) },
    ]);
    const b = await TrackerSession.open(address(), asPeer);
    await b.register(6002, [{ name: 'Beatles Medley.mp3', size: 5_000, sha256: sha('3'), root: 'e'.repeat(64) }]);
    expect(b.supports('search')).toBe(true);
    expect(await b.searchPage({ query: 'sigur ROS' })).toEqual({
      files: [{ name: 'Music/Sigur Rós/Ágætis byrjun/Svefn-g-englar.flac', size: 3_000_000, sha256: sha('1'), holders: 1 }],
      next: null,
    });
    const first = await b.searchPage({ query: 'beatles', extensions: ['mp3'], maxSize: 10_000 }, null, 2);
    expect(first.files.map((f) => f.name)).toEqual(['Beatles Medley.mp3', 'Music/Covers/Beatles Medley.mp3']);
    expect(first.next).toEqual({ rank: 0, holders: 1, name: 'Music/Covers/Beatles Medley.mp3', sha256: sha('3') });
    const second = await b.searchPage({ query: 'beatles', extensions: ['mp3'], maxSize: 10_000 }, first.next, 2);
    expect(second).toEqual({ files: [{ name: 'Music/Beatles/Help.mp3', size: 4_000, sha256: sha('2'), holders: 1 }], next: null });
    await a.close();
    await b.close();
  });

  it('refuses a hostile query with one named error and keeps the connection, and the share, of who sent it', async () => {
    const peer = await TrackerSession.open(address(), asPeer);
    await peer.register(6001, [{ name: 'song.mp3', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const cases: Array<[string, string]> = [
      ['x'.repeat(10_000), 'QUERY_TOO_LONG'],
      ['?! -- "', 'BAD_QUERY'],
      ['so\ud800ng', 'BAD_QUERY'],
      [Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), 'TOO_MANY_TERMS'],
    ];
    for (const [query, code] of cases) {
      const error = await peer.searchPage({ query }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'RemoteError', code });
      expect((error as Error).message.split('\n')).toHaveLength(1);
    }
    for (const query of ['NEAR(song', 'song*', '"song" OR x', "song'; DROP TABLE files; --", '{name}: song']) {
      await expect(peer.searchPage({ query })).resolves.toBeDefined();
    }
    expect((await peer.searchPage({ query: 'SONG' })).files.map((f) => f.name)).toEqual(['song.mp3']);
    await peer.close();
  });

  it('stops a search over its time budget with SEARCH_TIMEOUT and keeps serving', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'slow.db'), { searchBudgetMs: 0 });
    port = tracker.address.port;
    const peer = await TrackerSession.open(address(), asPeer);
    // Every name matches `songs`, in a folder's name only: no page is settled until every candidate was seen.
    await peer.register(6001, Array.from({ length: 600 }, (_, i) => ({ name: `songs/track ${i}.mp3`, size: i, sha256: i.toString(16).padStart(64, '0'), root: 'e'.repeat(64) })));
    await expect(peer.searchPage({ query: 'songs' })).rejects.toMatchObject({ code: 'SEARCH_TIMEOUT' });
    expect(await peer.searchPage({ query: 'track 599' })).toMatchObject({ files: [{ name: 'songs/track 599.mp3' }] });
    await peer.close();
  });
});

describe('bad input costs the sender its connection and nobody else anything', () => {
  async function expectClosedWith(client: Awaited<ReturnType<typeof rawClient>>, code: string): Promise<void> {
    expect(await client.receive()).toMatchObject({ type: 'error', code });
    await client.closed();
  }

  async function othersStillServed(): Promise<void> {
    const other = await TrackerSession.open(address(), asPeer);
    expect(await other.whoHas('anything')).toEqual([]);
    await other.close();
  }

  it('closes on an oversize length prefix with FRAME_TOO_LARGE', async () => {
    const client = await rawClient(port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(0xffffffff);
    await client.sendBytes(prefix);
    await expectClosedWith(client, 'FRAME_TOO_LARGE');
    await othersStillServed();
  });

  it.each([
    ['invalid JSON', Buffer.from('{"type":', 'utf8'), 'BAD_JSON'],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd]), 'BAD_JSON'],
    ['a UTF-8 byte order mark', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"type":"ping","id":1}')]), 'BAD_JSON'],
  ])('closes on %s with %s', async (_label, body, code) => {
    const client = await rawClient(port);
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(body.length);
    await client.sendBytes(Buffer.concat([prefix, body]));
    await expectClosedWith(client, code);
    await othersStillServed();
  });

  it.each([
    ['an unknown message type', { type: 'drop_table', id: 1 }, 'BAD_MESSAGE'],
    ['a wrong field type', { type: 'who_has', id: 1, name: 42 }, 'BAD_MESSAGE'],
    ['an unknown key', { type: 'who_has', id: 1, name: 'a', admin: true }, 'BAD_MESSAGE'],
    ['a traversal name', { type: 'who_has', id: 1, name: '../../etc/passwd' }, 'BAD_MESSAGE'],
    ['a second hello', { type: 'hello', protocol: 2, agent: 'again', features: [] }, 'UNEXPECTED_MESSAGE'],
  ])('closes on %s with %s and changes no state', async (_label, message, code) => {
    const before = await tracker.store.counts();
    const client = await rawClient(port);
    await client.send(message);
    await expectClosedWith(client, code);
    expect(await tracker.store.counts()).toEqual(before);
    await othersStillServed();
  });

  it('closes a connection stuck in a truncated frame at the peer timeout, serving others meanwhile', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'truncated.db'), { peerTimeoutMs: 300 });
    port = tracker.address.port;
    const client = await rawClient(port);
    const frame = encodeFrame({ type: 'who_has', id: 1, name: 'never-finished' });
    await client.sendBytes(frame.subarray(0, frame.length - 5));
    await othersStillServed();
    await expectClosedWith(client, 'PEER_TIMEOUT');
  });

  it('refuses a share over the files-per-share limit with TOO_MANY_FILES and stores nothing', async () => {
    const client = await rawClient(port);
    const files = (chunk: number) => Array.from({ length: 2_000 }, (_, i) => ({ name: `f${chunk}-${i}`, size: 1, sha256: sha('e'), root: 'e'.repeat(64) }));
    for (let i = 0; i < 2; i++) {
      await client.send({ type: 'register', id: i, listenPort: 3000, files: files(i), more: true });
      await client.receive();
    }
    // The chunk that would cross the limit is refused before anything of it is stored; the peer leaves.
    await client.send({ type: 'register', id: 3, listenPort: 3000, files: files(2), more: false });
    await expectClosedWith(client, 'TOO_MANY_FILES');
    await eventually(async () => (await tracker.store.counts()).peers === 0);
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });
  });

  it('refuses a share naming one file twice with DUPLICATE_NAME', async () => {
    const client = await rawClient(port);
    const file = { name: 'twice', size: 1, sha256: sha('f'), root: 'e'.repeat(64) };
    await client.send({ type: 'register', id: 1, listenPort: 3000, files: [file, file], more: false });
    await expectClosedWith(client, 'DUPLICATE_NAME');
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });
  });

  it('closes a connection that never says hello with HANDSHAKE_TIMEOUT', async () => {
    const client = await rawClient(port, false);
    await expectClosedWith(client, 'HANDSHAKE_TIMEOUT');
  });

  it("counts the hello deadline from the connection's arrival, not from the end of a slow TLS handshake", async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'deadline.db'), { handshakeTimeoutMs: 2_000 });
    port = tracker.address.port;
    // A client slow to start TLS (1.5 s of the 2 s), that then says nothing.
    const { connection, arrivedAt: arrived } = await slowTlsClient({ host: '127.0.0.1', port }, 1_500);
    expect(await connection.receive(5_000)).toMatchObject({ type: 'error', code: 'HANDSHAKE_TIMEOUT' });
    await connection.whenClosed;
    // From the arrival, 2 s; counted from the end of TLS it was 3.5 s.
    expect(Date.now() - arrived).toBeLessThan(2_900);
  });

  it('answers a hello of another protocol version with VERSION_MISMATCH', async () => {
    const client = await rawClient(port, false);
    await client.send({ type: 'hello', protocol: 99, agent: 'future' });
    await expectClosedWith(client, 'VERSION_MISMATCH');
  });

  it('bounds the files listed from one address, and under one identity, over all their connections', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'per-sender.db'), { maxFilesPerShare: 5_000, maxFilesPerAddress: 3_000, maxFilesPerIdentity: 2_500 });
    port = tracker.address.port;
    const files = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ name: `${prefix}/${i}`, size: 1, sha256: sha('e'), root: 'e'.repeat(64) }));
    const asAlice = { transport: tlsAs('alice') };
    const alice = await TrackerSession.open(address(), asAlice);
    await alice.register(2000, files('a1', 2_000));
    // A second connection of the same identity: 2 000 + 1 000 is over its 2 500.
    const alice2 = await TrackerSession.open(address(), asAlice);
    await expect(alice2.register(2001, files('a2', 1_000))).rejects.toMatchObject({ code: 'TOO_MANY_FILES', message: expect.stringContaining('limit per identity') });
    // Another identity from the same address: 3 000 in all is the address's limit, one more is over.
    const bob = await TrackerSession.open(address(), { transport: tlsAs('bob') });
    await bob.register(2002, files('b', 1_000));
    const carol = await TrackerSession.open(address(), { transport: tlsAs('carol') });
    await expect(carol.register(2003, files('c', 1))).rejects.toMatchObject({ code: 'TOO_MANY_FILES', message: expect.stringContaining('127.0.0.1 would list more than 3000 files') });
    // Another machine is not held to what this one shares.
    const elsewhere = await registerFrom('127.0.0.2', address(), 'dave', files('d', 2_000));
    expect((await tracker.store.counts()).files).toBe(5_000);
    // Room again once a connection leaves with its files.
    await bob.close();
    const carolAgain = await TrackerSession.open(address(), { transport: tlsAs('carol') });
    await eventually(async () => (await tracker.store.counts()).files === 4_000);
    await carolAgain.register(2004, files('c', 1_000));
    elsewhere.destroy();
    await carolAgain.close();
    await alice.close();
  });

  it('refuses connections over the limit with TOO_MANY_CONNECTIONS', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'limited.db'), { maxConnections: 2 });
    port = tracker.address.port;
    const first = await rawClient(port);
    const second = await rawClient(port);
    const third = await rawClient(port, false);
    await expectClosedWith(third, 'TOO_MANY_CONNECTIONS');
    first.socket.destroy();
    second.socket.destroy();
  });
});

describe('hostile names', () => {
  it('are refused in registrations and lookups, and nothing is stored', async () => {
    const { HOSTILE_NAMES } = await import('@p2pservice/test-support/hostile-names');
    for (const name of HOSTILE_NAMES) {
      const registering = await rawClient(port);
      await registering.send({ type: 'register', id: 1, listenPort: 3000, files: [{ name, size: 1, sha256: sha('a'), root: 'e'.repeat(64) }], more: false });
      expect(await registering.receive(), JSON.stringify(name)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
      await registering.closed();
      const asking = await rawClient(port);
      await asking.send({ type: 'who_has', id: 2, name });
      expect(await asking.receive(), JSON.stringify(name)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
      await asking.closed();
    }
    expect(await tracker.store.counts()).toEqual({ peers: 0, files: 0 });
  });
});

describe('share updates and liveness', () => {
  it('applies a delta (removed names, added or replaced entries) to a registered share', async () => {
    const peer = await TrackerSession.open(address(), asPeer);
    await peer.register(4000, [
      { name: 'keep', size: 1, sha256: sha('1'), root: 'e'.repeat(64) },
      { name: 'drop', size: 1, sha256: sha('2'), root: 'e'.repeat(64) },
      { name: 'change', size: 1, sha256: sha('3'), root: 'e'.repeat(64) },
    ]);
    expect(await peer.update([{ name: 'change', size: 2, sha256: sha('4'), root: 'e'.repeat(64) }, { name: 'new', size: 5, sha256: sha('5'), root: 'e'.repeat(64) }], ['drop'])).toBe(3);
    const names = (await tracker.store.listPage(null, 10)).map((f) => `${f.name}:${f.size}`);
    expect(names).toEqual(['change:2', 'keep:1', 'new:5']);
    await peer.close();
  });

  it('refuses an update before a register, and one that crosses the file limit (dropping that peer)', async () => {
    const early = await rawClient(port);
    await early.send({ type: 'update', id: 1, added: [], removed: [] });
    expect(await early.receive()).toMatchObject({ type: 'error', code: 'UNEXPECTED_MESSAGE' });

    const peer = await TrackerSession.open(address(), asPeer);
    await peer.register(4000, [{ name: 'only', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const many = Array.from({ length: 2_000 }, (_, i) => ({ name: `n${i}`, size: 1, sha256: sha('2'), root: 'e'.repeat(64) }));
    await expect(peer.update([...many, ...many.map((f) => ({ ...f, name: `m${f.name}` })), ...many.map((f) => ({ ...f, name: `o${f.name}` }))], [])).rejects.toMatchObject({
      code: 'TOO_MANY_FILES',
    });
    // The third chunk would cross the limit and is rolled back; the connection is closed, so the peer
    // and everything it shared leave the list.
    await eventually(async () => (await tracker.store.counts()).files === 0);
  });

  it('answers pings, tells peers the heartbeat in its welcome, and drops a silent peer with its files', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'timeouts.db'), { heartbeatMs: 100, peerTimeoutMs: 300 });
    port = tracker.address.port;
    const peer = await TrackerSession.open(address(), asPeer);
    expect(peer.welcome).toMatchObject({ heartbeatMs: 100, peerTimeoutMs: 300 });
    await peer.register(4000, [{ name: 'alive', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await peer.ping();
    }
    expect((await tracker.store.counts()).files).toBe(1);
    const heartbeat = setInterval(() => void peer.ping().catch(() => undefined), 100);

    const silent = await rawClient(port);
    await silent.send({ type: 'register', id: 1, listenPort: 4001, files: [{ name: 'silent', size: 1, sha256: sha('2'), root: 'e'.repeat(64) }], more: false });
    await silent.receive();
    expect(await silent.receive()).toMatchObject({ type: 'error', code: 'PEER_TIMEOUT' });
    await silent.closed();
    await eventually(async () => (await tracker.store.counts()).files === 1);
    expect((await tracker.store.listPage(null, 10)).map((f) => f.name)).toEqual(['alive']);
    clearInterval(heartbeat);
    await peer.close();
  });
});

describe('the store and the transport are the ones the tracker is given', () => {
  it('forgets on start what a previous run of its instance left in the store, and nothing else', async () => {
    await tracker.close();
    const { SqliteStore } = await import('../src/index.js');
    const file = join(dir.path, 'restart.db');
    const previous = await SqliteStore.open(file);
    await previous.putShare(undefined, { host: '10.0.0.1', port: 1, id: peerId }, [{ name: 'ghost', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const other = await SqliteStore.open(file, { instance: 'another-tracker' });
    await other.putShare(undefined, { host: '10.0.0.2', port: 2, id: peerId }, [{ name: 'theirs', size: 1, sha256: sha('2'), root: 'e'.repeat(64) }]);
    await previous.close();
    tracker = await startTracker(file);
    expect((await tracker.store.listPage(null, 10)).map((f) => f.name)).toEqual(['theirs']);
    await other.close();
  });

  it('listens and checks listen ports through its transport', async () => {
    await tracker.close();
    const tls = tlsAs('tracker');
    const counts = { dials: 0, listens: 0 };
    const transport = {
      canListen: tls.canListen,
      dial: (...args: Parameters<typeof tls.dial>) => (counts.dials++, tls.dial(...args)),
      listen: (...args: Parameters<typeof tls.listen>) => (counts.listens++, tls.listen(...args)),
    };
    tracker = await startTracker(join(dir.path, 'transport.db'), { verifyReachable: true }, transport);
    port = tracker.address.port;
    const listener = await listeningPort();
    const peer = await TrackerSession.open(address(), asPeer);
    await peer.register(listener.port, [{ name: 'checked', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    expect(counts).toEqual({ dials: 1, listens: 1 });
    await peer.close();
    await listener.close();
  });
});

describe('addresses come from sockets', () => {
  it('lists a peer only once the tracker could connect back to its listen port, unless it can serve through connect-back', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'reach.db'), { verifyReachable: true, reachTimeoutMs: 1_000 });
    port = tracker.address.port;
    const listener = await listeningPort();
    const reachable = await TrackerSession.open(address(), asPeer);
    expect(await reachable.register(listener.port, [{ name: 'ok', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }])).toBe(1);
    await listener.close();

    // A peer that did not agree to connect_back could not serve anyone: it is refused.
    const unreachable = await rawClient(port, true, undefined, ['who_has_content', 'search']);
    await unreachable.send({ type: 'register', id: 1, listenPort: listener.port, files: [{ name: 'hidden', size: 1, sha256: sha('2'), root: 'e'.repeat(64) }], more: false });
    expect(await unreachable.receive()).toMatchObject({
      type: 'error',
      code: 'UNREACHABLE',
      message: expect.stringMatching(/^the tracker cannot reach your listen port 127\.0\.0\.1:\d+ \(connection refused\); check that no firewall/),
    });
    await unreachable.closed();
    expect((await tracker.store.listPage(null, 10)).map((f) => f.name)).toEqual(['ok']);

    // One that did is listed as firewalled, told why, and its rows say so.
    const firewalled = await rawClient(port);
    await firewalled.send({ type: 'register', id: 1, listenPort: listener.port, files: [{ name: 'ok', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }], more: false });
    expect(await firewalled.receive()).toEqual({
      type: 'registered',
      id: 1,
      files: 1,
      complete: true,
      firewalled: expect.stringMatching(/^the tracker cannot reach 127\.0\.0\.1:\d+ \(connection refused\)$/),
    });
    expect(await tracker.store.listPage(null, 10)).toEqual([{ name: 'ok', size: 1, sha256: sha('1'), holders: 2, firewalled: 1 }]);
    const lister = await TrackerSession.open(address(), asPeer);
    expect(await lister.listPage(null, 10)).toMatchObject({ files: [{ name: 'ok', holders: 2, firewalled: 1 }] });
    expect((await lister.whoHasContent(sha('1'))).map((h) => h.firewalled ?? false)).toEqual([false, true]);
    await lister.close();
    firewalled.socket.destroy();
    await reachable.close();
  });

  it('limits connections per remote address', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'per-address.db'), { maxConnectionsPerAddress: 3 });
    port = tracker.address.port;
    const open = await Promise.all([rawClient(port), rawClient(port), rawClient(port)]);
    const fourth = await rawClient(port, false);
    expect(await fourth.receive()).toMatchObject({ type: 'error', code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('127.0.0.1 already has 3 connections') });
    open[0]!.socket.destroy();
    await eventually(() => tracker.server.connections === 2);
    const again = await rawClient(port);
    await again.send({ type: 'who_has', id: 1, name: 'x' });
    expect(await again.receive()).toMatchObject({ type: 'holders' });
    for (const client of [...open, again]) client.socket.destroy();
  });
});

describe('overload', () => {
  it('keeps answering a real client promptly with 300 idle connections open', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'idle.db'), { handshakeTimeoutMs: 30_000, maxConnectionsPerAddress: 1_000, maxConnectionsPerMember: 1_000 });
    port = tracker.address.port;
    // 300 connections that finished TLS and then say nothing (opened a few at a time: handshakes in
    // progress are bounded per address).
    const idle = [];
    for (let i = 0; i < 300; i += 10) idle.push(...(await Promise.all(Array.from({ length: 10 }, () => tlsAs('peer').dial(address())))));
    const peer = await TrackerSession.open(address(), asPeer);
    await peer.register(4000, [{ name: 'still-served', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
    const started = Date.now();
    const files = [];
    for await (const entry of peer.list()) files.push(entry.name);
    expect(files).toEqual(['still-served']);
    expect(Date.now() - started).toBeLessThan(2_000); // a bound on the wait, not a benchmark
    for (const socket of idle) socket.destroy();
    await peer.close();
  });

  it('does not buffer answers for a client that never reads them, and drops it after the write deadline', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'slow.db'), { writeTimeoutMs: 500 });
    port = tracker.address.port;
    const peer = await TrackerSession.open(address(), asPeer);
    const files = Array.from({ length: 20_000 }, (_, i) => ({ name: `some/long/folder/name/file-${i}.bin`, size: i, sha256: sha('e'), root: 'e'.repeat(64) }));
    await peer.register(4000, files);

    const slow = await rawClient(port);
    slow.socket.pause(); // reads nothing from now on
    const before = process.memoryUsage().heapUsed;
    const request = encodeFrame({ type: 'list', id: 1, after: null, limit: 1000 });
    // 2 000 pages requested at once (about 300 MB of answers if they were all buffered).
    for (let i = 0; i < 2_000; i++) slow.socket.write(request);
    // The tracker gives up on it after the write deadline, having buffered at most one answer meanwhile.
    await eventually(() => tracker.server.connections === 1);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    // Reading now shows the tracker stopped answering and hung up long before page 2 000.
    let pages = 0;
    const error = await (async () => {
      for (;;) {
        const reply = await slow.receive();
        if (reply.type !== 'list_page') return reply;
        pages++;
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(pages).toBeLessThan(200);
    expect(await peer.whoHas('some/long/folder/name/file-7.bin')).toHaveLength(1);
    await peer.close();
  });
});
