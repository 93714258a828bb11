import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FileIdentity } from '../util/file-checks.js';
import type { HashReply, HashRequest } from './hash-messages.js';
import { PACKAGE_ROOT } from '../util/package-root.js';

/*
 * Hashing threads, so that hashing runs on every core while the main thread serves the network: the
 * SHA-256 and piece tree of a large file being indexed (one read for both), and the whole-file SHA-256
 * of a download (read back from the part as pieces are verified). One thread per core; they keep the
 * process alive only while they have work.
 */

// The compiled worker, from the tests (src/), the build (dist/) and the CLI's bundle alike: it is never bundled.
const WORKER_URL = new URL('dist/hashing/hash-worker.js', PACKAGE_ROOT);

interface Pending {
  resolve: (reply: HashReply) => void;
  reject: (error: Error) => void;
}

class HashThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Jobs and sessions in flight: the thread keeps the process alive only while there are some. */
  private busy = 0;
  /** Why the thread died, if it did (out of memory, a bug): every later request fails with it. */
  dead: Error | undefined;

  constructor() {
    // Its heap holds a read buffer and a few hashes: a small heap keeps the process's memory flat.
    this.worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    this.worker.on('message', (reply: HashReply) => {
      // A session's piece checks are answered by their own number; everything else by its id.
      const key = reply.op === 'pieces' ? reply.seq : reply.id;
      const waiting = this.pending.get(key);
      this.pending.delete(key);
      waiting?.resolve(reply);
    });
    const die = (error: Error) => {
      this.dead ??= error;
      for (const waiting of this.pending.values()) waiting.reject(this.dead);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the hashing thread stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the thread again.
    this.worker.unref();
  }

  get load(): number {
    return this.busy;
  }

  hold(): void {
    if (this.busy++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.busy === 0) this.worker.unref();
  }

  send(request: HashRequest): void {
    this.worker.postMessage(request);
  }

  ask(request: HashRequest): Promise<HashReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(request.op === 'pieces' ? request.seq : request.id, { resolve, reject });
      this.send(request);
    });
  }
}

let nextId = 1;

let threads: HashThread[] = [];

/**
 * An idle hashing thread, or a new one while there are fewer than cores (each costs memory: a download
 * needs one), or else the least busy. One that died is left for a new one.
 */
function thread(): HashThread {
  threads = threads.filter((t) => !t.dead);
  const idle = threads.find((t) => t.load === 0);
  if (idle) return idle;
  if (threads.length < Math.max(1, availableParallelism())) {
    const started = new HashThread();
    threads.push(started);
    return started;
  }
  return threads.reduce((best, t) => (t.load < best.load ? t : best));
}

function failed(reply: HashReply): Error {
  const error = new Error(reply.op === 'error' ? reply.message : `unexpected reply ${reply.op}`) as NodeJS.ErrnoException;
  if (reply.op === 'error' && reply.code) error.code = reply.code;
  return error;
}

/**
 * Files at least this large have their two hashes taken on two threads at once, each reading the file
 * (the second read comes from the page cache): one large file among small ones otherwise keeps one core
 * busy with both passes long after the other has finished the rest.
 */
const SPLIT_HASHING_BYTES = 64 * 1024 * 1024;

async function askFile(path: string, size: number, only?: 'sha256' | 'tree'): Promise<Extract<HashReply, { op: 'file' }>> {
  const worker = thread();
  worker.hold();
  try {
    const reply = await worker.ask({ id: nextId++, op: 'file', path, size, ...(only && { only }) });
    if (reply.op !== 'file') throw failed(reply);
    return reply;
  } finally {
    worker.release();
  }
}

/** The SHA-256 and piece tree of the file at `path` (`size` bytes), hashed on hashing threads. */
export async function hashesOfFile(path: string, size: number): Promise<{ sha256: string; root: string; layer: Buffer }> {
  const layerOf = (reply: Extract<HashReply, { op: 'file' }>) => Buffer.from(reply.layer.buffer, reply.layer.byteOffset, reply.layer.byteLength);
  if (size < SPLIT_HASHING_BYTES || availableParallelism() < 2) {
    const reply = await askFile(path, size);
    return { sha256: reply.sha256, root: reply.root, layer: layerOf(reply) };
  }
  // Two threads, one per hash: `thread()` picks an idle one for each.
  const [whole, tree] = await Promise.all([askFile(path, size, 'sha256'), askFile(path, size, 'tree')]);
  return { sha256: whole.sha256, root: tree.root, layer: layerOf(tree) };
}

/** What a hashing thread says of a small file of a share (hash-worker.ts `describe`). */
export type DescribedOnThread = WithoutEnvelope<Extract<HashReply, { op: 'described' }>>;
type WithoutEnvelope<T> = T extends unknown ? Omit<T, 'id' | 'op'> : never;

/**
 * Describes the small file at `path` (its identity on disk `identity`, its real path inside `root`) on a
 * hashing thread: opened, checked, read and hashed there. Rejects with the file-system error, if any.
 */
export async function describeOnThread(path: string, root: string, identity: FileIdentity): Promise<DescribedOnThread> {
  const worker = thread();
  worker.hold();
  try {
    const reply = await worker.ask({ id: nextId++, op: 'describe', path, root, identity });
    if (reply.op !== 'described') throw failed(reply);
    const { id: _id, op: _op, ...described } = reply;
    return described;
  } finally {
    worker.release();
  }
}

/**
 * A download's hashing on a hashing thread: the whole-file SHA-256, which the thread takes from the
 * pieces it checks (`checkPieces`, when they come in order) or else reads back from the file at `path`
 * (the ranges given to `add`, in order). Close it when done (digest or not).
 */
export class FileHashSession {
  private readonly worker = thread();
  private readonly id = nextId++;
  private closed = false;

  /** With `pieces` (the content's size and piece layer), the session also checks arriving pieces. */
  constructor(path: string, pieces?: { size: number; layer: readonly Buffer[] }) {
    this.worker.hold();
    this.worker.send({ id: this.id, op: 'open', path, ...(pieces && { size: pieces.size, layer: Buffer.concat(pieces.layer) }) });
  }

  /**
   * The verdict on each whole piece in `bytes` (memory shared with the thread: it reads them in place),
   * which hold the content from `position`, a piece boundary, on. `bytes` must not change until then.
   */
  async checkPieces(bytes: Buffer, position: number): Promise<boolean[]> {
    if (!(bytes.buffer instanceof SharedArrayBuffer)) throw new TypeError('pieces are checked in shared memory');
    const seq = nextId++;
    const reply = await this.worker.ask({ id: this.id, op: 'pieces', seq, buffer: bytes.buffer, byteOffset: bytes.byteOffset, length: bytes.length, position });
    if (reply.op !== 'pieces') throw failed(reply);
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.ok;
  }

  add(offset: number, length: number): void {
    this.worker.send({ id: this.id, op: 'range', offset, length });
  }

  async digest(): Promise<string> {
    const reply = await this.worker.ask({ id: this.id, op: 'digest' });
    if (reply.op !== 'digest') throw failed(reply);
    return reply.sha256;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.send({ id: this.id, op: 'close' });
    this.worker.release();
  }
}
