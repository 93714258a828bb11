import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FramedConnection, HolderSession, layerToHex, MIN_PIECE_BYTES, PROTOCOL_VERSION, sha256Of, TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { download, FileServer, indexFolder, ShareSession } from '../src/index.js';
import { dialFrom, slowTlsClient } from '@p2pservice/test-support/tls';
import { eventually } from '@p2pservice/test-support/wait';
import { HOSTILE_NAMES } from '@p2pservice/test-support/hostile-names';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { anonymousTls, silentLogger, startTracker, type TestTracker, tlsAs, treeOf } from './support.js';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let dir: string;
let shared: string;
let tracker: TestTracker;
let trackerAddress: { host: string; port: number };
let session: ShareSession;

beforeEach(async () => {
  dir = tempDir('p2p-holder-');
  shared = join(dir, 'shared');
  mkdirSync(shared);
  tracker = await startTracker(join(dir, 'tracker.db'));
  trackerAddress = { host: '127.0.0.1', port: tracker.address.port };
});
afterEach(async () => {
  await session?.stop();
  await tracker.close();
  removeDir(dir);
});

async function share(): Promise<ShareSession> {
  session = await ShareSession.start({ dir: shared, tracker: trackerAddress, transport: tlsAs('peer'), host: '127.0.0.1', port: 0, logger: silentLogger, cacheDir: join(dir, 'cache') });
  return session;
}

async function whoHas(name: string) {
  const client = await TrackerSession.open(trackerAddress);
  try {
    return await client.whoHas(name);
  } finally {
    await client.close();
  }
}

async function fetchError(sha256: string) {
  const holder = await HolderSession.open({ host: '127.0.0.1', port: session.port });
  try {
    return await holder.fetch(sha256, 0, 0).then(() => undefined, (error: unknown) => error);
  } finally {
    await holder.close();
  }
}

describe('a holder serves only content that still matches its index', () => {
  it('re-hashes a file modified in place with its mtime restored, and never sends it under the old hash', async () => {
    const original = randomBytes(200_000);
    const path = join(shared, 'doc.bin');
    writeFileSync(path, original);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    await share();
    const modified = Buffer.from(original);
    modified[1234]! ^= 0xff;
    writeFileSync(path, modified);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    expect(statSync(path).mtimeMs).toBe(1_700_000_000_000);

    expect(await fetchError(sha(original))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('changed since it was indexed') });
    await session.settled();
    expect((await whoHas('doc.bin')).map((c) => c.sha256)).toEqual([sha(modified)]);

    // A download of what the list says now yields the new bytes, verified.
    const out = join(dir, 'out');
    const result = await download({ tracker: trackerAddress, transport: anonymousTls, name: 'doc.bin', outDir: out, logger: silentLogger });
    expect(result.sha256).toBe(sha(modified));
    expect(readdirSync(out)).toEqual(['doc.bin']);
  });

  it('does not serve a shared file that was swapped for a symlink to a file outside the share', async () => {
    const outside = join(dir, 'outside-secret');
    const secret = Buffer.from('top secret, same length!');
    writeFileSync(outside, secret);
    const path = join(shared, 'note.txt');
    const note = Buffer.from('an innocent shared note.');
    expect(note.length).toBe(secret.length);
    writeFileSync(path, note);
    await share();
    rmSync(path);
    symlinkSync(outside, path);
    expect(await fetchError(sha(note))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fetchError(sha(secret))).toMatchObject({ code: 'NOT_FOUND' });
    await session.settled();
    expect(await whoHas('note.txt')).toEqual([]);
  });

  it('refuses fetches that name files, paths or anything but a sha256, closing the connection', async () => {
    writeFileSync(join(shared, 'a.txt'), 'a');
    await share();
    const probes: unknown[] = [
      ...HOSTILE_NAMES.slice(0, 12).map((name) => ({ type: 'fetch', id: 1, sha256: name, offset: 0, length: 1 })),
      { type: 'fetch', id: 1, sha256: sha('a'), offset: 0, length: 1, name: '../../etc/passwd' },
      { type: 'fetch', id: 1, sha256: sha('a'), offset: 0, length: 1, path: '/etc/passwd' },
      { type: 'fetch', id: 1, sha256: sha('a'), offset: -1, length: 1 },
      { type: 'fetch', id: 1, sha256: sha('a').toUpperCase(), offset: 0, length: 1 },
      { type: 'get', id: 1, name: 'a.txt' },
    ];
    for (const probe of probes) {
      const connection = new FramedConnection(await tlsAs('probe').dial({ host: '127.0.0.1', port: session.port }), z.unknown());
      await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'probe', features: [] });
      await connection.receive(2000);
      await connection.send(probe);
      expect(await connection.receive(2000), JSON.stringify(probe)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
      await connection.whenClosed;
    }
    // The honest request still works.
    const holder = await HolderSession.open({ host: '127.0.0.1', port: session.port });
    const { header, body } = await holder.fetch(sha('a'), 0, 1);
    expect(header.size).toBe(1);
    expect((await body.toArray()).join('')).toBe('a');
    await holder.close();
  });

  it('answers BAD_RANGE for a range past the end, keeping the connection', async () => {
    writeFileSync(join(shared, 'a.txt'), 'abc');
    await share();
    const holder = await HolderSession.open({ host: '127.0.0.1', port: session.port });
    await expect(holder.fetch(sha('abc'), 4, 0)).rejects.toMatchObject({ code: 'BAD_RANGE' });
    await expect(holder.fetch(sha('abc'), 1, 3)).rejects.toMatchObject({ code: 'BAD_RANGE' });
    const { header, body } = await holder.fetch(sha('abc'), 3, 0);
    expect(header).toMatchObject({ offset: 3, length: 0, size: 3 });
    for await (const _ of body) throw new Error('no bytes expected');
    await holder.close();
  });

  it('serves a range in the middle of a file, then another on the same connection', async () => {
    writeFileSync(join(shared, 'a.txt'), 'abcdefgh');
    await share();
    const holder = await HolderSession.open({ host: '127.0.0.1', port: session.port });
    const middle = await holder.fetch(sha('abcdefgh'), 2, 3);
    expect(middle.header).toMatchObject({ offset: 2, length: 3, size: 8 });
    expect(Buffer.concat((await middle.body.toArray()) as Buffer[]).toString()).toBe('cde');
    const end = await holder.fetch(sha('abcdefgh'), 6, 2);
    expect(Buffer.concat((await end.body.toArray()) as Buffer[]).toString()).toBe('gh');
    await holder.close();
  });

  it('sends the piece layer of a file of several pieces, which hashes up to the root it registered', async () => {
    const bytes = randomBytes(3 * MIN_PIECE_BYTES + 100);
    writeFileSync(join(shared, 'pieces.bin'), bytes);
    await share();
    const holder = await HolderSession.open({ host: '127.0.0.1', port: session.port });
    const { root, hashes } = treeOf(bytes);
    const layer = await holder.pieces(sha256Of(bytes).toString('hex'), bytes.length, root);
    expect(layerToHex(layer)).toBe(hashes);
    await expect(holder.pieces(sha256Of(bytes).toString('hex'), bytes.length, 'f'.repeat(64))).rejects.toMatchObject({ code: 'HOLDER_FAILED' });
    await holder.close();
  });
});

describe('busy holders queue, they do not fail', () => {
  it('serves downloads beyond its upload slots in turn, telling each its place in line', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    writeFileSync(join(shared, 'big.bin'), big);
    session = await ShareSession.start({ dir: shared, tracker: trackerAddress, transport: tlsAs('peer'), host: '127.0.0.1', port: 0, logger: silentLogger, cacheDir: null, maxUploads: 1 });
    const waits: string[] = [];
    const downloads = Array.from({ length: 4 }, (_, i) =>
      download({ tracker: trackerAddress, transport: anonymousTls, name: 'big.bin', outDir: join(dir, `out${i}`), logger: silentLogger, onWaiting: (w) => waits.push(w) }),
    );
    const results = await Promise.all(downloads);
    for (const result of results) expect(result.sha256).toBe(sha(big));
    expect(waits.some((w) => /^queued at 127\.0\.0\.1:\d+: position [1-3]$/.test(w))).toBe(true);
  });

  it('answers BUSY once its line is full', async () => {
    writeFileSync(join(shared, 'big.bin'), randomBytes(8 * 1024 * 1024));
    const { FileServer } = await import('../src/index.js');
    const { indexFolder } = await import('../src/index.js');
    const index = await indexFolder(shared, { cacheDir: null });
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, transport: tlsAs('peer'), index, logger: silentLogger, maxUploads: 1, maxQueue: 1 });
    try {
      const address = { host: '127.0.0.1', port: server.address.port };
      const sha256 = index.files[0]!.sha256;
      const first = await HolderSession.open(address);
      const { body } = await first.fetch(sha256, 0, 8 * 1024 * 1024); // holds the only slot while unread
      const second = await HolderSession.open(address);
      const positions: number[] = [];
      const waiting = second.fetch(sha256, 0, 8 * 1024 * 1024, (p) => positions.push(p));
      await eventually(() => positions.length > 0);
      expect(positions).toEqual([1]);
      const third = await HolderSession.open(address);
      await expect(third.fetch(sha256, 0, 1)).rejects.toMatchObject({ code: 'BUSY', message: expect.stringContaining('1 downloads are waiting') });
      body.resume();
      const { body: secondBody } = await waiting;
      let received = 0;
      for await (const chunk of secondBody) received += (chunk as Buffer).length;
      expect(received).toBe(8 * 1024 * 1024);
      for (const s of [first, second, third]) s.connection.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('the queue is a feature', () => {
  it('answers BUSY at once to a downloader that did not agree to wait in line', async () => {
    writeFileSync(join(shared, 'big.bin'), randomBytes(8 * 1024 * 1024));
    const { FileServer, indexFolder } = await import('../src/index.js');
    const index = await indexFolder(shared, { cacheDir: null });
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, transport: tlsAs('peer'), index, logger: silentLogger, maxUploads: 1 });
    try {
      const address = { host: '127.0.0.1', port: server.address.port };
      const sha256 = index.files[0]!.sha256;
      const first = await HolderSession.open(address);
      expect([...first.features]).toEqual(['queue', 'members', 'partial']);
      const { body } = await first.fetch(sha256, 0, 8 * 1024 * 1024); // holds the only slot while unread
      const impatient = await HolderSession.open(address, { features: [] });
      expect([...impatient.features]).toEqual([]);
      const positions: number[] = [];
      await expect(impatient.fetch(sha256, 0, 1, (p) => positions.push(p))).rejects.toMatchObject({ code: 'BUSY', message: expect.stringContaining('all 1 upload slots are in use; try again later') });
      expect(positions).toEqual([]);
      body.destroy();
      for (const s of [first, impatient]) s.connection.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('a holder of a private network', () => {
  it('serves only downloaders that prove the network key', async () => {
    const { FileServer, indexFolder } = await import('../src/index.js');
    const { generateNetworkKey, parseNetworkKey } = await import('@p2pservice/protocol');
    writeFileSync(join(shared, 'club.txt'), 'members only');
    const key = parseNetworkKey(generateNetworkKey());
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, index: await indexFolder(shared, { cacheDir: null }), logger: silentLogger, transport: tlsAs('peer'), networkKey: key });
    try {
      const address = { host: '127.0.0.1', port: server.address.port };
      await expect(HolderSession.open(address)).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      await expect(HolderSession.open(address, { networkKey: parseNetworkKey(generateNetworkKey()) })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
      const member = await HolderSession.open(address, { networkKey: key });
      expect(member.isPrivateNetwork).toBe(true);
      const { body } = await member.fetch(sha('members only'), 0, 12);
      expect(Buffer.concat((await body.toArray()) as Buffer[]).toString()).toBe('members only');
      await member.close();
    } finally {
      await server.close();
    }
  });
});

describe('holder limits', () => {
  async function holdOn(options: Partial<Parameters<typeof FileServer.start>[0]>) {
    writeFileSync(join(shared, 'a.txt'), 'a');
    const server = await FileServer.start({ host: '127.0.0.1', port: 0, transport: tlsAs('peer'), index: await indexFolder(shared, { cacheDir: null }), logger: silentLogger, ...options });
    onTestFinished(() => server.close());
    return { server, address: { host: '127.0.0.1', port: server.address.port } };
  }

  async function fetchA(connection: FramedConnection<unknown, unknown>): Promise<void> {
    await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'test', features: [] });
    expect(await connection.receive(5_000)).toMatchObject({ type: 'welcome' });
    await connection.send({ type: 'fetch', id: 1, sha256: sha('a'), offset: 0, length: 1 });
    expect(await connection.receive(5_000)).toMatchObject({ type: 'file', length: 1 });
  }

  it('refuses connections over its limit with TOO_MANY_CONNECTIONS, and serves again once they go', async () => {
    const { server, address } = await holdOn({ maxConnections: 2 });
    const open = [await tlsAs('probe').dial(address), await tlsAs('probe').dial(address)];
    await eventually(() => server.connections === 2);
    await expect(HolderSession.open(address)).rejects.toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    for (const socket of open) socket.destroy();
    await eventually(() => server.connections === 0);
    const holder = await HolderSession.open(address);
    const { body } = await holder.fetch(sha('a'), 0, 1);
    expect((await body.toArray()).join('')).toBe('a');
    await holder.close();
  });

  it('lets one sender hold only its share of the connections: another address is still served', async () => {
    const { server, address } = await holdOn({ maxConnections: 10, maxConnectionsPerAddress: 3 });
    // One machine opens idle connections, as many as it can.
    const idle = await Promise.all(Array.from({ length: 3 }, () => tlsAs('probe').dial(address)));
    onTestFinished(() => idle.forEach((socket) => socket.destroy()));
    await eventually(() => server.connections === 3);
    await expect(HolderSession.open(address)).rejects.toMatchObject({ code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('127.0.0.1 already has 3 connections') });
    // Another machine downloads as usual.
    const other = new FramedConnection(await dialFrom('127.0.0.2', address), z.unknown());
    onTestFinished(() => other.destroy());
    await fetchA(other);
  });

  it('keeps one sender to its share of upload slots and of the line, while another is served at once', async () => {
    writeFileSync(join(shared, 'big.bin'), randomBytes(8 * 1024 * 1024));
    const { address } = await holdOn({ maxUploads: 3, maxUploadsPerAddress: 1, maxQueue: 10, maxQueuePerAddress: 2 });
    const big = sha(readFileSync(join(shared, 'big.bin')));
    const open = async (from?: string) => {
      const connection = new FramedConnection(from ? await dialFrom(from, address) : await tlsAs('probe').dial(address), z.unknown());
      onTestFinished(() => connection.destroy());
      await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'test', features: ['queue'] });
      expect(await connection.receive(5_000)).toMatchObject({ type: 'welcome' });
      return connection;
    };
    const fetchBig = (connection: FramedConnection<unknown, unknown>) => connection.send({ type: 'fetch', id: 1, sha256: big, offset: 0, length: 8 * 1024 * 1024 });
    // One machine takes its one slot with a download it does not read, then asks for more.
    const first = await open();
    await fetchBig(first);
    expect(await first.receive(5_000)).toMatchObject({ type: 'file' });
    first.socket.pause();
    const waiting = [await open(), await open()];
    for (const connection of waiting) await fetchBig(connection);
    // Two slots are free, but not for it: it waits in line, and a third wait is more than its share.
    expect(await waiting[0]!.receive(5_000)).toMatchObject({ type: 'queued', position: 1 });
    expect(await waiting[1]!.receive(5_000)).toMatchObject({ type: 'queued', position: 2 });
    const third = await open();
    await fetchBig(third);
    expect(await third.receive(5_000)).toMatchObject({ type: 'error', code: 'BUSY', message: expect.stringContaining('127.0.0.1 already has 2 downloads waiting') });
    // Another machine is served at once.
    const other = await open('127.0.0.2');
    await fetchBig(other);
    expect(await other.receive(5_000)).toMatchObject({ type: 'file' });
  });

  it('counts the hello deadline from the arrival, so a slow TLS handshake does not lengthen it', async () => {
    const { address } = await holdOn({ handshakeTimeoutMs: 2_000 });
    // A client slow to start TLS (1.5 s of the 2 s), that then says nothing.
    const { connection, arrivedAt: arrived } = await slowTlsClient(address, 1_500);
    expect(await connection.receive(5_000)).toMatchObject({ type: 'error', code: 'HANDSHAKE_TIMEOUT' });
    await connection.whenClosed;
    // From the arrival, 2 s; counted from the end of TLS it was 3.5 s.
    expect(Date.now() - arrived).toBeLessThan(2_900);
  });
});
