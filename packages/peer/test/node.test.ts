import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Transport } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DownloadState, PeerNode, type PeerNodeEvents, type PeerNodeOptions, type ShareState } from '../src/index.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';
import { silentLogger, startTestHolder, startTracker, type TestTracker, testIdentity, tlsAs } from './support.js';

/* The peer node: what it owns, the state it shows and the events it emits, which every face relies on. */

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let dir: string;
let tracker: TestTracker;
const nodes: PeerNode[] = [];

beforeEach(async () => {
  dir = tempDir('p2p-node-');
  tracker = await startTracker(join(dir, 'tracker.db'));
});
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.close();
  await tracker.close();
  removeDir(dir);
});

function newNode(options: Partial<PeerNodeOptions> = {}): PeerNode {
  const node = new PeerNode({ tracker: tracker.address, logger: silentLogger, identity: testIdentity('peer'), host: '127.0.0.1', stableMs: 50, debounceMs: 20, busyWaitMs: 0, stallTimeoutMs: 1_000, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 50, ...options });
  nodes.push(node);
  return node;
}

/** Every event a node emits, in order, with its payload. */
function record(node: PeerNode) {
  const seen: { event: keyof PeerNodeEvents; args: unknown[] }[] = [];
  const names: (keyof PeerNodeEvents)[] = ['share-indexing', 'share-started', 'share-updated', 'share-stopped', 'tracker-lost', 'tracker-back', 'warning', 'download-started', 'download-progress', 'holder-failed', 'download-finished', 'download-failed'];
  for (const name of names) node.on(name, (...args: unknown[]) => seen.push({ event: name, args }));
  return {
    seen,
    of: <K extends keyof PeerNodeEvents>(name: K) => seen.filter((e) => e.event === name).map((e) => e.args as PeerNodeEvents[K]),
  };
}

function folder(name: string, files: Record<string, Buffer | string>): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(join(path, file), data);
  return path;
}

describe('sharing through a node', () => {
  it('never lists its own working files or litter in a shared folder, applies an edited .p2pignore at once, and lists a download once it is whole', async () => {
    const sharer = newNode();
    const lister = newNode();
    const names = async () => {
      const listed: string[] = [];
      for await (const entry of lister.list()) listed.push(`${entry.name}:${entry.holders}`);
      return listed;
    };
    const path = folder('shared', { 'keep.txt': 'keep', 'secret.txt': 'secret' });
    await sharer.share(path);
    const part = `movie.bin.${'b'.repeat(12)}.part`;
    for (const name of [part, `${part}.json`, `${part}.lock`, '.DS_Store', 'Thumbs.db']) writeFileSync(join(path, name), 'x');
    // Written last: once it is listed, the files written before it have been seen too.
    writeFileSync(join(path, 'later.txt'), 'later');
    await eventually(async () => (await names()).includes('later.txt:1'), 10_000);
    expect(await names()).toEqual(['keep.txt:1', 'later.txt:1', 'secret.txt:1']);

    writeFileSync(join(path, '.p2pignore'), 'secret.txt\n');
    await eventually(async () => !(await names()).includes('secret.txt:1'), 10_000);
    expect(await names()).toEqual(['keep.txt:1', 'later.txt:1']);

    const giver = newNode();
    await giver.share(folder('giver', { 'gift.txt': randomBytes(300_000) }));
    await sharer.download({ name: 'gift.txt', outDir: path });
    await eventually(async () => (await names()).includes('gift.txt:2'), 10_000);
    await sharer.settled();
    expect(await names()).toEqual(['gift.txt:2', 'keep.txt:1', 'later.txt:1']);
  });

  it('indexes, registers and shows a share, tells of folder changes, and takes the files off the list when stopped', async () => {
    const sharer = newNode();
    const events = record(sharer);
    const path = folder('music', { 'a.txt': 'alpha', 'b.txt': 'bravo!' });
    const share = await sharer.share(path);
    expect(share).toMatchObject({ dir: path, files: 2, bytes: 11, connected: true, tracker: `127.0.0.1:${tracker.address.port}`, skipped: [] });
    expect(events.of('share-indexing').length).toBeGreaterThan(0);
    expect(events.of('share-started')).toEqual([[share]]);
    expect(sharer.shares()).toEqual([share]);
    expect(sharer.isSharing(path)).toBe(true);
    await expect(sharer.share(path)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining('already sharing') });

    writeFileSync(join(path, 'c.txt'), 'charlie');
    await eventually(() => events.of('share-updated').length > 0, 10_000);
    await sharer.settled();
    const [updated, change] = events.of('share-updated')[0]!;
    expect(change).toEqual({ added: 1, removed: 0 });
    expect(updated.files).toBe(3);
    const listed = [];
    for await (const entry of newNode().list()) listed.push(entry.name);
    expect(listed).toEqual(['a.txt', 'b.txt', 'c.txt']);

    await sharer.stopShare(share.id);
    expect(events.of('share-stopped')[0]![0]).toMatchObject({ id: share.id, connected: false });
    expect(sharer.shares()).toEqual([]);
    // The tracker drops the rows as it sees the goodbye.
    await eventually(async () => (await tracker.store.counts()).peers === 0);
  });

  it('says when the tracker is lost and when it is back, with the share registered again', async () => {
    const sharer = newNode();
    const events = record(sharer);
    await sharer.share(folder('kept', { 'kept.txt': 'still here' }));
    const { port } = tracker.address;
    await tracker.close();
    await eventually(() => events.of('tracker-lost').length > 0);
    const [lost, reconnecting] = events.of('tracker-lost')[0]!;
    expect(lost.connected).toBe(false);
    expect(reconnecting.attempt).toBe(0);
    expect(sharer.shares()[0]!.connected).toBe(false);
    tracker = await startTracker(join(dir, 'tracker.db'), port);
    await eventually(() => events.of('tracker-back').length > 0, 10_000);
    expect(events.of('tracker-back')[0]![0]).toMatchObject({ connected: true, files: 1 });
    expect(await tracker.store.counts()).toEqual({ peers: 1, files: 1 });
  });
});

describe('downloading through a node', () => {
  it('startDownload answers with the id at once, the one its events and downloads() show; a closing node refuses', async () => {
    await newNode().share(folder('small', { 'a.txt': 'hello' }));
    const downloader = newNode();
    const events = record(downloader);
    const out = join(dir, 'out');
    const { id, finished } = downloader.startDownload({ name: 'a.txt', outDir: out });
    expect(events.of('download-started').map(([state]) => state.id)).toEqual([id]);
    expect(downloader.downloads().map((d) => d.id)).toEqual([id]);
    expect(readFileSync((await finished).path, 'utf8')).toBe('hello');
    expect(events.of('download-finished').map(([state]) => state.id)).toEqual([id]);
    await downloader.close();
    expect(() => downloader.startDownload({ name: 'a.txt', outDir: out })).toThrow(/shutting down/);
    await expect(downloader.download({ name: 'a.txt', outDir: out })).rejects.toThrow(/shutting down/);
  });

  it('downloads a folder of many small files over a few holder connections, kept between its files', async () => {
    const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${String(i).padStart(2, '0')}.txt`, randomBytes(1000 + i)]));
    folder('holder/album', files);
    const shared = await newNode().share(join(dir, 'holder'));
    // The real TLS transport, counting the connections opened to the holder.
    const real = tlsAs('fan');
    let dials = 0;
    const counting: Transport = {
      canListen: real.canListen,
      listen: (options, onConnection) => real.listen(options, onConnection),
      dial: (to, options) => {
        if (to.port === shared.port) dials++;
        return real.dial(to, options);
      },
    };
    const downloader = newNode({ identity: undefined, transport: counting });
    const out = join(dir, 'out');
    const result = await downloader.downloadFolder({ path: 'album/', outDir: out });
    expect(result.failed).toEqual([]);
    for (const [name, data] of Object.entries(files)) expect(readFileSync(join(out, 'album', name)).equals(data)).toBe(true);
    // Four files at once: a connection per file at a time, handed on to the next file, not one per file.
    expect(dials).toBeGreaterThan(0);
    expect(dials).toBeLessThanOrEqual(8);
  });

  it('shows a download from start to finish: progress up to the size, the holder, the result', async () => {
    const big = randomBytes(3 * 1024 * 1024);
    await newNode().share(folder('holder', { 'big.bin': big }));
    const downloader = newNode();
    const events = record(downloader);
    const out = join(dir, 'out');
    const result = await downloader.download({ name: 'big.bin', outDir: out });
    expect(readFileSync(join(out, 'big.bin')).equals(big)).toBe(true);
    expect(result).toMatchObject({ path: join(out, 'big.bin'), size: big.length, sha256: sha(big) });
    const started = events.of('download-started')[0]![0];
    expect(started).toMatchObject({ name: 'big.bin', status: 'resolving', received: 0 });
    const progress = events.of('download-progress').map(([state]) => state);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.status === 'transferring' && p.holder === result.holder)).toBe(true);
    expect(progress.map((p) => p.received)).toEqual([...progress.map((p) => p.received)].sort((a, b) => a - b));
    expect(progress.at(-1)!.received).toBe(big.length);
    const [finished] = events.of('download-finished')[0]!;
    expect(finished).toMatchObject({ id: started.id, status: 'done', received: big.length, total: big.length, result });
    expect(downloader.downloads()).toEqual([finished]);
  });

  it('names each holder that failed, and goes on to the next', async () => {
    const content = randomBytes(200_000);
    const liar = await startTestHolder(tracker.address, 'doc.bin', content, sha(content), { mode: 'wrong-bytes' });
    const honest = await startTestHolder(tracker.address, 'elsewhere/doc.bin', content, sha(content));
    try {
      const downloader = newNode();
      const events = record(downloader);
      await downloader.download({ name: 'doc.bin', outDir: join(dir, 'out') });
      const failed = events.of('holder-failed');
      expect(failed).toHaveLength(1);
      const [state, failure] = failed[0]!;
      expect(failure).toEqual({ holder: `127.0.0.1:${liar.port}`, code: 'HOLDER_FAILED', reason: expect.stringMatching(/^sent piece \d+ with the wrong hash$/), lied: true });
      expect(state.failures).toEqual([failure]);
      expect(events.of('download-finished')[0]![0].result?.holder).toBe(`127.0.0.1:${honest.port}`);
    } finally {
      await liar.close();
      await honest.close();
    }
  });

  it('cancels a running download, keeping its part, and says it was interrupted', async () => {
    const content = randomBytes(2 * 1024 * 1024);
    const slow = await startTestHolder(tracker.address, 'slow.bin', content, sha(content), { chunkDelayMs: 10, chunkBytes: 16 * 1024 });
    try {
      const downloader = newNode();
      const events = record(downloader);
      const out = join(dir, 'out');
      const running = downloader.download({ name: 'slow.bin', outDir: out });
      const part = join(out, `slow.bin.${sha(content).slice(0, 12)}.part`);
      // Once a first piece is written, there is a part worth keeping.
      await eventually(() => existsSync(part) && statSync(part).size > 0);
      const [state] = events.of('download-started')[0]!;
      expect(downloader.cancel(state.id)).toBe(true);
      await expect(running).rejects.toMatchObject({ code: 'INTERRUPTED' });
      const [failed, error] = events.of('download-failed')[0]!;
      expect(failed).toMatchObject({ status: 'interrupted', error: expect.stringContaining('bytes are kept in') });
      expect(error).toMatchObject({ code: 'INTERRUPTED' });
      expect(downloader.cancel(state.id)).toBe(false);
      expect(existsSync(join(out, 'slow.bin'))).toBe(false);
      expect(existsSync(join(out, `slow.bin.${sha(content).slice(0, 12)}.part`))).toBe(true);
    } finally {
      await slow.close();
    }
  });
});

describe('a download served to others while it runs (a LAN party)', () => {
  it('serves its verified pieces to another downloader of the same content, and each shows the other', async () => {
    const content = randomBytes(4 * 1024 * 1024 + 7);
    const holder = await startTestHolder(tracker.address, 'party.bin', content, sha(content), { chunkDelayMs: 20, chunkBytes: 32 * 1024 });
    try {
      const first = newNode({ identity: testIdentity('first') });
      const second = newNode({ identity: testIdentity('second') });
      const firstEvents = record(first);
      const firstDone = first.download({ name: 'party.bin', outDir: join(dir, 'first') });
      // The second starts once the first has pieces to give.
      await eventually(() => firstEvents.of('download-progress').some(([state]) => state.received >= 1024 * 1024), 10_000);
      const result = await second.download({ name: 'party.bin', outDir: join(dir, 'second') });
      await firstDone;
      expect(sha(readFileSync(result.path))).toBe(sha(content));
      const fromFirst = result.holders.filter((h) => h.holder !== `127.0.0.1:${holder.port}`);
      expect(fromFirst).toHaveLength(1);
      expect(fromFirst[0]!.bytes).toBeGreaterThan(0);
      // The first shows what it sent to the second, by the identity the second proved.
      const [finished] = firstEvents.of('download-finished').at(-1)!;
      expect(finished.served).toEqual([{ id: testIdentity('second').id, bytes: expect.any(Number) }]);
      expect(finished.served[0]!.bytes).toBeGreaterThanOrEqual(fromFirst[0]!.bytes);
      // Once done, it is no longer offered: a third downloader finds only the holder.
      const third = newNode({ identity: testIdentity('third') });
      const alone = await third.download({ name: 'party.bin', outDir: join(dir, 'third') });
      expect(alone.holders.map((h) => h.holder)).toEqual([`127.0.0.1:${holder.port}`]);
    } finally {
      await holder.close();
    }
  });
});

describe('a node is one peer over one transport', () => {
  it('serves its shares and reaches the tracker and holders through the transport it is given', async () => {
    const counts = { dials: 0, listens: 0 };
    const tls = tlsAs('peer');
    const transport: Transport = {
      canListen: tls.canListen,
      dial: (to, options) => (counts.dials++, tls.dial(to, options)),
      listen: (options, onConnection) => (counts.listens++, tls.listen(options, onConnection)),
    };
    const node = newNode({ transport });
    await node.share(folder('mine', { 'x.txt': 'x' }));
    expect(counts).toEqual({ dials: 1, listens: 1 });
    // Three pieces: a download others can be served from before it is whole (a one-piece file is not offered).
    await newNode().share(folder('theirs', { 'y.bin': randomBytes(600_000) }));
    await node.download({ name: 'y.bin', outDir: join(dir, 'out') });
    // Resolve (tracker), piece layer and pieces (one holder connection, kept between them), and the
    // download served to others (its port, its offer to the tracker), all through the node's transport.
    expect(counts).toEqual({ dials: 4, listens: 2 });
  });

  it('downloads from a firewalled holder through connect-back, at its share port while it shares, at a door of its own when not', async () => {
    const content = randomBytes(600_000);
    // Listening on 127.0.0.2 only, it cannot be reached where the tracker sees it (127.0.0.1).
    const hidden = newNode({ identity: testIdentity('hidden'), host: '127.0.0.2' });
    const shared = await hidden.share(folder('hidden', { 'h.bin': content }));
    expect(shared.firewalled).toMatch(/^the tracker cannot reach 127\.0\.0\.1:\d+ \(connection refused\)$/);

    const counting = () => {
      const counts = { listens: 0 };
      const tls = tlsAs('peer');
      const transport: Transport = { canListen: tls.canListen, dial: (to, options) => tls.dial(to, options), listen: (options, onConnection) => (counts.listens++, tls.listen(options, onConnection)) };
      return { counts, transport };
    };
    const sharing = counting();
    const node = newNode({ transport: sharing.transport });
    await node.share(folder('mine', { 'x.txt': 'x' }));
    const first = await node.download({ name: 'h.bin', outDir: join(dir, 'out1') });
    expect(readFileSync(first.path).equals(content)).toBe(true);
    // The share's port, and the port its downloads are served on (where holders come back too).
    expect(sharing.counts.listens).toBe(2);

    const plain = counting();
    // Not serving its download: no port of its own to be reached at, only the doors.
    const second = await newNode({ transport: plain.transport, serveDownloads: false }).download({ name: 'h.bin', outDir: join(dir, 'out2') });
    expect(readFileSync(second.path).equals(content)).toBe(true);
    // A short-lived door for the connect-back: the connection that brought the piece layer is kept for the
    // pieces (the node's holder pool), so the holder is asked to come back once.
    expect(plain.counts.listens).toBe(1);
  });

  it('stops everything when closed: shares leave the list, new work is refused', async () => {
    const node = newNode();
    await node.share(folder('one', { '1.txt': '1' }));
    await node.share(folder('two', { '2.txt': '2' }));
    expect(await tracker.store.counts()).toEqual({ peers: 2, files: 2 });
    await node.close();
    await eventually(async () => (await tracker.store.counts()).peers === 0);
    await expect(node.share(folder('three', {}))).rejects.toMatchObject({ code: 'INTERRUPTED' });
    await expect(node.download({ name: '1.txt', outDir: dir })).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });

  it('stops a share that was still being indexed when it closed', async () => {
    const node = newNode();
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}.bin`, randomBytes(4096)]));
    const sharing = node.share(folder('slow-to-index', files));
    const closing = node.close();
    await expect(sharing).rejects.toMatchObject({ code: 'INTERRUPTED' });
    await closing;
    expect(node.shares()).toEqual([]);
    await eventually(async () => (await tracker.store.counts()).peers === 0);
  });
});

// Types the faces depend on, checked by the compiler.
export type { DownloadState, ShareState };

/** A TCP relay that records every byte it carries, both ways: what someone on the wire would see. */
async function recordingProxy(target: { host: string; port: number }) {
  const { createServer, connect } = await import('node:net');
  const seen: Buffer[] = [];
  const open = new Set<import('node:net').Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    for (const socket of [inbound, outbound]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      from.on('data', (chunk: Buffer) => {
        seen.push(chunk);
        to.write(chunk);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => Buffer.concat(seen),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

describe('a private network, through nodes', () => {
  it('lets members share and download, refuses anyone else with one line, and shows nothing on the wire', async () => {
    const { generateNetworkKey, parseNetworkKey } = await import('@p2pservice/protocol');
    const keyText = generateNetworkKey();
    const networkKey = parseNetworkKey(keyText);
    await tracker.close();
    const { startTestTracker } = await import('@p2pservice/test-support/tracker');
    tracker = await startTestTracker(join(dir, 'private.db'), { networkKey });
    const trackerProxy = await recordingProxy(tracker.address);
    const viaProxy = { host: '127.0.0.1', port: trackerProxy.port, id: tracker.address.id };
    const secret = Buffer.concat([Buffer.from('TOP SECRET CONTENT, never in clear. '), randomBytes(200_000)]);
    const sharer = newNode({ tracker: viaProxy, networkKey });
    const share = await sharer.share(folder('club', { 'secret-plans.txt': secret }));
    expect(share).toMatchObject({ network: 'private', trackerId: tracker.address.id });

    // A member downloads; its bytes from the holder pass through a second recording relay.
    const member = newNode({ tracker: viaProxy, networkKey });
    const content = await member.resolve('secret-plans.txt');
    const holder = content.holders[0]!;
    const holderProxy = await recordingProxy(holder);
    const out = join(dir, 'out');
    await member.download({ name: 'secret-plans.txt', outDir: out, content: { ...content, holders: [{ ...holder, port: holderProxy.port }] } });
    expect(readFileSync(join(out, 'secret-plans.txt')).equals(secret)).toBe(true);

    // Non-members: no key, or another key. Refused with the reason and what to do.
    for (const options of [{}, { networkKey: parseNetworkKey(generateNetworkKey()) }]) {
      const stranger = newNode({ tracker: tracker.address, ...options });
      await expect(stranger.resolve('secret-plans.txt')).rejects.toMatchObject({ code: 'ACCESS_DENIED', hint: expect.stringContaining('NETWORK_KEY') });
      await expect(stranger.share(folder(`stranger-${Math.random()}`, { 'x.txt': 'x' }))).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    }

    const wire = Buffer.concat([trackerProxy.bytes(), holderProxy.bytes()]);
    expect(holderProxy.bytes().length).toBeGreaterThan(secret.length); // the content did cross this relay
    for (const clear of ['secret-plans', 'TOP SECRET', sha(secret), keyText.replace(/-/g, ''), keyText, 'register', 'who_has']) {
      expect(wire.includes(Buffer.from(clear)), clear).toBe(false);
    }
    expect(wire.includes(networkKey)).toBe(false);
    expect(wire.includes(secret.subarray(100, 164))).toBe(false);
    await trackerProxy.close();
    await holderProxy.close();
  });
});
