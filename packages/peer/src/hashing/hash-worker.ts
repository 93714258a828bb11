import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { PieceGeometry, PieceHasher, TreeHasher } from '@p2pservice/protocol/pieces';
import { holdsPrivateKey, identityOf, isInside, PRIVATE_KEY_SNIFF_BYTES, sameIdentity } from '../util/file-checks.js';
import type { HashReply, HashRequest } from './hash-messages.js';

/*
 * A hashing thread (hash-pool.ts starts it). It reads files itself, so the bytes never cross threads:
 * the main thread only says which file and which ranges, or (a download's arriving pieces) where they
 * are in memory the two threads share. Files are worked on at once (reads overlap with hashing); the
 * requests of one download's session in the order they came.
 */

const READ_BYTES = 1024 * 1024;

/** Feeds [offset, offset + length) of `handle` to `sink`; throws if the file is shorter. */
async function readRange(handle: FileHandle, offset: number, length: number, sink: (chunk: Buffer) => void): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(READ_BYTES, length)));
  for (let at = offset; at < offset + length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, offset + length - at), at);
    if (bytesRead === 0) throw new Error(`the file ended at ${at} bytes, before ${offset + length}`);
    sink(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}

/** A download's hashing: its whole-file hash (`next` is how far it got) and what pieces are checked against. */
interface Session {
  handle?: FileHandle;
  hash: Hash;
  next: number;
  error?: string;
  geometry?: PieceGeometry;
  layer?: Buffer;
}

/** Download sessions in progress: ranges and pieces come in order, as the pieces before them are in. */
const sessions = new Map<number, Session>();

/**
 * The verdict on each whole piece in `bytes` (the content from `position` on), against the layer; the
 * pieces that check and continue the whole-file hash are added to it.
 */
function checkPieces(session: Session, bytes: Buffer, position: number): boolean[] {
  const { geometry, layer } = session;
  if (!geometry || !layer) throw new Error('this hashing session has no piece layer');
  const first = Math.floor(position / geometry.pieceSize);
  const ok: boolean[] = [];
  const hasher = new PieceHasher(geometry, first, (piece, hash) => ok.push(hash.equals(layer.subarray(piece * 32, piece * 32 + 32))));
  hasher.update(bytes);
  let at = position;
  for (const [i, good] of ok.entries()) {
    const piece = first + i;
    const length = geometry.lengthOf(piece);
    if (!good || at !== session.next) break;
    session.hash.update(bytes.subarray(at - position, at - position + length));
    session.next += length;
    at += length;
  }
  return ok;
}

/** The read buffer of `describe`, reused: this thread describes one file at a time. */
const describeBuffer = Buffer.allocUnsafe(READ_BYTES);

/**
 * Describes a small file of a share, synchronously: each call is short (the file is at most a few
 * megabytes), and this thread has nothing else to do meanwhile. Through the main thread's promises,
 * the opening, stats, reads and closing of 2 000 small files cost it more than their hashing.
 */
function describe(request: Extract<HashRequest, { op: 'describe' }>): HashReply {
  const { id, path, root, identity } = request;
  if (!isInside(root, realpathSync(path))) return { id, op: 'described', refused: 'outside' };
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!sameIdentity(identity, identityOf(fstatSync(fd)))) return { id, op: 'described', refused: 'changed' };
    const whole = createHash('sha256');
    const tree = new TreeHasher(new PieceGeometry(identity.size));
    const sniffed = identity.size <= PRIVATE_KEY_SNIFF_BYTES ? Buffer.allocUnsafe(identity.size) : undefined;
    let read = 0;
    for (;;) {
      const n = readSync(fd, describeBuffer, 0, describeBuffer.length, read);
      if (n === 0) break;
      // Grown while read: refused below; the tree must not see more than the size it was made for.
      if (read + n > identity.size) return { id, op: 'described', refused: 'changed' };
      const chunk = describeBuffer.subarray(0, n);
      whole.update(chunk);
      tree.update(chunk);
      if (sniffed) chunk.copy(sniffed, read);
      read += n;
    }
    if (read !== identity.size || !sameIdentity(identity, identityOf(fstatSync(fd)))) return { id, op: 'described', refused: 'changed' };
    const { root: treeRoot, layer } = tree.digest();
    return { id, op: 'described', sha256: whole.digest('hex'), root: treeRoot.toString('hex'), layer: Buffer.concat(layer), privateKey: sniffed !== undefined && holdsPrivateKey(sniffed) };
  } finally {
    closeSync(fd);
  }
}

async function handle(request: HashRequest): Promise<HashReply | undefined> {
  switch (request.op) {
    case 'describe':
      return describe(request);
    case 'file': {
      const file = await open(request.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const whole = request.only === 'tree' ? undefined : createHash('sha256');
        const tree = request.only === 'sha256' ? undefined : new TreeHasher(new PieceGeometry(request.size));
        await readRange(file, 0, request.size, (chunk) => {
          whole?.update(chunk);
          tree?.update(chunk);
        });
        const { root, layer } = tree?.digest() ?? { root: Buffer.alloc(0), layer: [] };
        return { id: request.id, op: 'file', sha256: whole?.digest('hex') ?? '', root: root.toString('hex'), layer: Buffer.concat(layer) };
      } finally {
        await file.close();
      }
    }
    case 'open':
      sessions.set(request.id, {
        handle: await open(request.path, constants.O_RDONLY | constants.O_NOFOLLOW),
        hash: createHash('sha256'),
        next: 0,
        ...(request.size !== undefined && request.layer && { geometry: new PieceGeometry(request.size), layer: Buffer.from(request.layer) }),
      });
      return undefined;
    case 'pieces': {
      const session = sessions.get(request.id);
      if (!session || session.error) return { id: request.id, op: 'pieces', seq: request.seq, ok: [], error: session?.error ?? 'no such hashing session' };
      return { id: request.id, op: 'pieces', seq: request.seq, ok: checkPieces(session, Buffer.from(request.buffer, request.byteOffset, request.length), request.position) };
    }
    case 'range': {
      const session = sessions.get(request.id);
      if (!session?.handle || session.error) return undefined;
      const end = request.offset + request.length;
      // Pieces that went into the hash as they arrived are not read again.
      if (end <= session.next) return undefined;
      if (request.offset > session.next) {
        session.error = `the whole-file hash reached byte ${session.next}, and was given bytes from ${request.offset}`;
        return undefined;
      }
      try {
        await readRange(session.handle, session.next, end - session.next, (chunk) => session.hash.update(chunk));
        session.next = end;
      } catch (error) {
        session.error = (error as Error).message;
      }
      return undefined;
    }
    case 'digest': {
      const session = sessions.get(request.id);
      if (!session) return { id: request.id, op: 'error', message: 'no such hashing session' };
      if (session.error) return { id: request.id, op: 'error', message: session.error };
      return { id: request.id, op: 'digest', sha256: session.hash.digest('hex') };
    }
    case 'close': {
      const session = sessions.get(request.id);
      sessions.delete(request.id);
      await session?.handle?.close();
      return undefined;
    }
  }
}

async function answer(request: HashRequest): Promise<void> {
  let reply: HashReply | undefined;
  try {
    reply = await handle(request);
  } catch (error) {
    // A tree, a digest or an open that failed: the caller hears it; a failed open fails the digest.
    if (request.op === 'open') sessions.set(request.id, { hash: createHash('sha256'), next: 0, error: (error as Error).message });
    else if (request.op === 'pieces') reply = { id: request.id, op: 'pieces', seq: request.seq, ok: [], error: (error as Error).message };
    else reply = { id: request.id, op: 'error', message: (error as Error).message, ...((error as NodeJS.ErrnoException).code && { code: (error as NodeJS.ErrnoException).code }) };
  }
  if (reply) parentPort!.postMessage(reply);
}

/** Each whole-file hash's requests, chained so that they are handled in the order they were sent. */
const chains = new Map<number, Promise<void>>();
parentPort!.on('message', (request: HashRequest) => {
  if (request.op === 'file' || request.op === 'describe') {
    void answer(request);
    return;
  }
  const chained = (chains.get(request.id) ?? Promise.resolve()).then(() => answer(request));
  if (request.op === 'close') void chained.then(() => chains.delete(request.id));
  chains.set(request.id, chained);
});
