import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Content, HolderSession, layerFromHex, MIN_PIECE_BYTES, RemoteError } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileServer, PartFile, ShareIndex } from '../src/index.js';
import { PartShelf } from '../src/party/part-shelf.js';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { silentLogger, testIdentity, tlsAs, treeOf } from './support.js';

/*
 * A download served while it runs (feature `partial`): only the pieces it has verified, read from the very
 * part it fills; `held` tells which, at once or once there are more.
 */

const content = randomBytes(3 * MIN_PIECE_BYTES + 1_000); // four pieces
const sha256 = createHash('sha256').update(content).digest('hex');
const tree = treeOf(content);
const layer = layerFromHex(tree.hashes);
const piece = (n: number) => content.subarray(n * MIN_PIECE_BYTES, Math.min(content.length, (n + 1) * MIN_PIECE_BYTES));

let dir: string;
let part: PartFile;
let server: FileServer;
let holder: HolderSession;
let shelf: PartShelf;

beforeEach(async () => {
  dir = tempDir('p2p-partial-');
  const listed: Content = { sha256, size: content.length, holders: [] };
  part = (await PartFile.open(join(dir, 'game.bin'), listed)) as PartFile;
  await part.plan(tree.root);
  shelf = new PartShelf();
  await shelf.put(part, layer);
  server = await FileServer.start({ host: '127.0.0.1', port: 0, index: new ShareIndex('', [], []), logger: silentLogger, transport: tlsAs('downloader-a'), partials: shelf });
  holder = await HolderSession.open({ host: '127.0.0.1', port: server.address.port, id: testIdentity('downloader-a').id }, { transport: tlsAs('downloader-b') });
});
afterEach(async () => {
  await holder.close().catch(() => undefined);
  await server.close();
  await part.keep();
  removeDir(dir);
});

async function verify(n: number): Promise<void> {
  await part.writeAt([piece(n)], n * MIN_PIECE_BYTES);
  part.markVerified(n);
}

async function fetched(offset: number, length: number): Promise<Buffer> {
  const { body } = await holder.fetch(sha256, offset, length);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a download served while it runs', () => {
  it('serves the pieces it has verified, and refuses a range that touches any other with BAD_RANGE', async () => {
    await verify(1);
    expect(await holder.held(sha256, 4)).toMatchObject({ count: 1, complete: false, bits: new Uint8Array([0b0010]) });
    expect((await fetched(MIN_PIECE_BYTES + 5, 100)).equals(content.subarray(MIN_PIECE_BYTES + 5, MIN_PIECE_BYTES + 105))).toBe(true);
    const refused = await fetched(MIN_PIECE_BYTES, MIN_PIECE_BYTES + 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RemoteError);
    expect(refused).toMatchObject({ code: 'BAD_RANGE' });
    expect((refused as RemoteError).said).toMatch(/^piece 2 is not verified here yet/);
    // The connection stays usable: the layer it checked is served too.
    expect(await holder.pieces(sha256, content.length, tree.root)).toEqual(layer);
  });

  it('answers a held with `after` once it has more pieces, not before', async () => {
    await verify(0);
    let answered = false;
    const waiting = holder.held(sha256, 4, 1).then((answer) => ((answered = true), answer));
    // A round trip on another connection: the waiting one was received and held by then.
    const other = await HolderSession.open({ host: '127.0.0.1', port: server.address.port, id: testIdentity('downloader-a').id }, { transport: tlsAs('downloader-c') });
    expect((await other.held(sha256, 4)).count).toBe(1);
    await other.close();
    expect(answered).toBe(false);
    await verify(3);
    expect(await waiting).toMatchObject({ count: 2, bits: new Uint8Array([0b1001]) });
  });

  it('is no longer served once the offer ended: NOT_FOUND', async () => {
    await verify(0);
    expect((await fetched(0, 10)).equals(content.subarray(0, 10))).toBe(true);
    shelf.remove(shelf.find(sha256)!);
    await expect(fetched(0, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(holder.held(sha256, 4)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
