import { join } from 'node:path';
import { ALL_FEATURES, type FileEntry, jsonBytes, MAX_FRAME_BYTES, MAX_REQUEST_ID, MAX_NAME_BYTES, PROTOCOL_VERSION, type SearchCursor, sharedNameProblem, TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fitContents, fitHolders, fitListPage } from '../src/server/reply-fit.js';
import { rawClient, sha, startTracker, tempDir, type TestTracker, asPeer, peerId } from './helpers.js';

/*
 * Every frame fits MAX_FRAME_BYTES, whatever the names (spec: Limits). The longest legal names are 1024
 * bytes, and a name of double quotes doubles in JSON: a thousand of them are 2 MB of list.
 */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
beforeEach(async () => {
  dir = tempDir();
  tracker = await startTracker(join(dir.path, 'tracker.db'));
});
afterEach(async () => {
  await tracker.close();
  dir.remove();
});

/** 1 000 legal names of exactly MAX_NAME_BYTES bytes: quotes (doubled by JSON escaping), accents, plain. */
function longestNames(): FileEntry[] {
  return Array.from({ length: 1_000 }, (_, i) => {
    const tag = `${String(i).padStart(4, '0')}`;
    const fill = i % 3 === 0 ? '"'.repeat(MAX_NAME_BYTES - 4) : i % 3 === 1 ? 'é'.repeat((MAX_NAME_BYTES - 4) / 2) : 'x'.repeat(MAX_NAME_BYTES - 4);
    return { name: tag + fill, size: i, sha256: sha('a'), root: 'e'.repeat(64) };
  });
}

describe('replies that grow with the data', () => {
  it('register in frame-sized chunks, and list in pages that each fit a frame, losing no row', async () => {
    const files = longestNames();
    for (const f of files) expect(Buffer.byteLength(f.name)).toBe(MAX_NAME_BYTES);
    for (const f of files) expect(sharedNameProblem(f.name)).toBeUndefined();
    expect(jsonBytes(files)).toBeGreaterThan(MAX_FRAME_BYTES); // one frame could not carry them

    const peer = await TrackerSession.open(tracker.address, asPeer);
    expect(await peer.register(4000, files)).toBe(1_000);

    // A client with the default frame limit pages through all of it at the CLI's page size.
    const client = await TrackerSession.open(tracker.address, asPeer);
    const listed = [];
    for await (const entry of client.list(1_000)) listed.push(entry.name);
    expect(listed).toEqual(files.map((f) => f.name).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));

    // Search results page the same way: every tag begins with "0", so all 1 000 match.
    const found: string[] = [];
    let after: SearchCursor | null = null;
    let pages = 0;
    do {
      const page: { files: { name: string }[]; next: SearchCursor | null } = await client.searchPage({ query: '0' }, after, 1_000);
      found.push(...page.files.map((f) => f.name));
      after = page.next;
      pages++;
    } while (after);
    expect(pages).toBeGreaterThan(1);
    expect(found.sort()).toEqual(files.map((f) => f.name).sort());
    await client.close();

    const raw = await rawClient(tracker.address.port, true, MAX_FRAME_BYTES);
    await raw.send({ type: 'list', id: 1, after: null, limit: 1_000 });
    const page = (await raw.receive()) as { files: unknown[]; next: unknown };
    expect(page.files.length).toBeGreaterThan(0);
    expect(page.files.length).toBeLessThan(1_000);
    expect(page.next).not.toBeNull();
    raw.socket.destroy();
    await peer.close();
  });

  it('cut holder lists to the reply limit, and say so by returning fewer', async () => {
    await tracker.close();
    tracker = await startTracker(join(dir.path, 'small.db'), { replyFrameBytes: 600, maxConnectionsPerMember: 100 });
    const peers = [];
    for (let i = 0; i < 20; i++) {
      const peer = await TrackerSession.open(tracker.address, asPeer);
      await peer.register(5000 + i, [{ name: 'popular.bin', size: 9, sha256: sha('9'), root: 'e'.repeat(64) }]);
      peers.push(peer);
    }
    const raw = await rawClient(tracker.address.port, true, 600);
    await raw.send({ type: 'who_has', id: 1, name: 'popular.bin' });
    const holders = (await raw.receive()) as { contents: { holders: unknown[] }[] };
    expect(holders.contents[0]!.holders.length).toBeGreaterThan(0);
    expect(holders.contents[0]!.holders.length).toBeLessThan(20);
    await raw.send({ type: 'who_has_content', id: 2, sha256: sha('9') });
    const byContent = (await raw.receive()) as { holders: unknown[] };
    expect(byContent.holders.length).toBeGreaterThan(0);
    expect(byContent.holders.length).toBeLessThan(20);
    raw.socket.destroy();
    for (const peer of peers) await peer.close();
  });
});

describe('fitting rows into a frame', () => {
  const row = (name: string) => ({ name, sha256: sha('b'), size: 1, holders: 1 });

  it('keeps whole rows until the next one and its cursor would cross the limit', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`${i}${'"'.repeat(100)}`));
    for (const max of [700, 1_500, 3_000]) {
      const page = fitListPage(rows, 10, max);
      expect(page.files.length).toBeLessThan(10);
      expect(page.next).toEqual({ name: page.files.at(-1)!.name, sha256: sha('b') });
      expect(jsonBytes({ type: 'list_page', id: MAX_REQUEST_ID, ...page })).toBeLessThanOrEqual(max);
      const oneMore = fitListPage(rows.slice(0, page.files.length + 1), 10, max);
      expect(oneMore.files).toHaveLength(page.files.length);
    }
  });

  it('ends the list (next: null) only when the store had fewer rows than asked and all fit', () => {
    const rows = [row('a'), row('b')];
    expect(fitListPage(rows, 3, MAX_FRAME_BYTES).next).toBeNull();
    expect(fitListPage(rows, 2, MAX_FRAME_BYTES).next).toEqual({ name: 'b', sha256: sha('b') });
    expect(fitListPage([], 2, MAX_FRAME_BYTES)).toEqual({ files: [], next: null });
  });

  it('fits contents and holders under the limit', () => {
    const holders = Array.from({ length: 64 }, (_, i) => ({ host: `10.0.0.${i}`, port: 4000 + i, id: peerId, root: 'e'.repeat(64) }));
    const contents = Array.from({ length: 5 }, (_, i) => ({ sha256: sha(String(i)), size: i, holders }));
    const fitted = fitContents('n', contents, 2_000);
    expect(jsonBytes({ type: 'holders', id: MAX_REQUEST_ID, name: 'n', contents: fitted })).toBeLessThanOrEqual(2_000);
    expect(fitted.length).toBeGreaterThan(0);
    const flat = fitHolders(sha('1'), holders, 1_000);
    expect(jsonBytes({ type: 'content_holders', id: MAX_REQUEST_ID, sha256: sha('1'), holders: flat })).toBeLessThanOrEqual(1_000);
    expect(flat).toEqual(holders.slice(0, flat.length));
  });
});

describe('features', () => {
  it('refuses who_has_content on a connection that did not agree to it', async () => {
    const client = await rawClient(tracker.address.port, false);
    await client.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'old-style', features: [] });
    expect(await client.receive()).toMatchObject({ type: 'welcome', features: [] });
    await client.send({ type: 'who_has_content', id: 1, sha256: sha('1') });
    expect(await client.receive()).toMatchObject({ type: 'error', code: 'UNEXPECTED_MESSAGE', message: expect.stringContaining('who_has_content') });
    await client.closed();
  });

  it('agrees to the features it offers that the client named', async () => {
    const client = await rawClient(tracker.address.port, false);
    await client.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'x', features: [...ALL_FEATURES, 'not_yet_invented'] });
    expect(await client.receive()).toMatchObject({ type: 'welcome', features: ['who_has_content', 'who_has_sha256', 'search', 'connect_back', 'banned', 'members', 'quotas', 'partial', 'holder_files', 'watch'] });
    client.socket.destroy();
  });
});
