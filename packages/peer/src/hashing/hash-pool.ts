import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-messages.js';

/*
 * Hashing threads, so that hashing runs on every core while the main thread serves the network: the
 * SHA-256 and piece tree of a large file being indexed (one read for both), and the whole-file SHA-256
 * of a download (read back from the part as pieces are verified). One thread per core; they keep the
 * process alive only while they have work.
 */

// From src/hashing (tests) and dist/hashing (the build) alike, the compiled worker is at the same place.
const WORKER_URL = new URL('../../dist/hashing/hash-worker.js', import.meta.url);

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
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
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
      this.pending.set(request.id, { resolve, reject });
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

/** The SHA-256 and piece tree of the file at `path` (`size` bytes), read once and hashed on a hashing thread. */
export async function hashesOfFile(path: string, size: number): Promise<{ sha256: string; root: string; layer: Buffer }> {
  const worker = thread();
  worker.hold();
  try {
    const reply = await worker.ask({ id: nextId++, op: 'file', path, size });
    if (reply.op !== 'file') throw failed(reply);
    return { sha256: reply.sha256, root: reply.root, layer: Buffer.from(reply.layer.buffer, reply.layer.byteOffset, reply.layer.byteLength) };
  } finally {
    worker.release();
  }
}

/**
 * A whole-file SHA-256 taken on a hashing thread, which reads the ranges it is given from the file at
 * `path`, in the order given. Close it when done (digest or not).
 */
export class FileHashSession {
  private readonly worker = thread();
  private readonly id = nextId++;
  private closed = false;

  constructor(path: string) {
    this.worker.hold();
    this.worker.send({ id: this.id, op: 'open', path });
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
