import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** How often the WAL is checkpointed, off the tracker's thread. */
const CHECKPOINT_EVERY_MS = 250;

/**
 * The write-ahead log's size past which it is started over (RESTART) rather than only copied (PASSIVE).
 * Its file is reused from the start, so on disk it stays at about this size plus one round's writes.
 */
export const WAL_LIMIT_BYTES = 64 * 2 ** 20;

/** How long starting the log over waits for the tracker's write in progress, and for searches, before it gives up for this round. */
const RESTART_WAIT_MS = 200;

/** The longest the tracker holds a write back for the log to start over. */
const WRITES_PAUSE_MAX_MS = 1_000;

// From src/store (tests) and dist/store (the build) alike, the compiled worker is at the same place.
const WORKER_URL = new URL('../../dist/store/sqlite-checkpoint-worker.js', import.meta.url);

/**
 * WAL checkpoints on a thread of their own. SQLite checkpoints automatically inside the commit that
 * takes the log past 1 000 pages: copying 4 MB into the database file and syncing it held the tracker's
 * event loop for tens of milliseconds, a few times a second while a big share was written. With the
 * automatic checkpoint off, this thread does it instead.
 */
export class WalCheckpoints {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    /** 1 while the thread starts the log over. */
    private readonly pause: Int32Array,
  ) {}

  static start(file: string, walLimitBytes = WAL_LIMIT_BYTES): WalCheckpoints {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const workerData = { file, everyMs: CHECKPOINT_EVERY_MS, walLimitBytes, restartWaitMs: RESTART_WAIT_MS, pause };
    const worker = new Worker(WORKER_URL, { workerData });
    // Kept from exiting the process on its own, and never fatal: at worst the WAL grows until close.
    worker.unref();
    worker.on('error', () => undefined);
    const checkpoints = new WalCheckpoints(worker, pause);
    worker.once('exit', () => {
      // A thread gone (it could not start, or failed) holds no write back and is not waited for.
      checkpoints.exited = true;
      Atomics.store(pause, 0, 0);
      Atomics.notify(pause, 0);
    });
    return checkpoints;
  }

  /** The thread has ended (stopped, or failed). */
  private exited = false;

  /** Resolves at once, or when the thread has started the log over: the event loop runs meanwhile. */
  async writesMayGo(): Promise<void> {
    if (Atomics.load(this.pause, 0) === 0) return;
    // Neither a pending Atomics.waitAsync nor the (unref-ed) thread keeps the process alive: while we
    // wait for the thread, it must, or a process with nothing else to do exits (code 13) mid-write.
    this.worker.ref();
    try {
      await Atomics.waitAsync(this.pause, 0, 1, WRITES_PAUSE_MAX_MS).value;
    } finally {
      this.worker.unref();
    }
  }

  /** Stops checkpointing and closes the thread's connection (once, however often it is called). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exited) return;
      // Waited for, the thread keeps the process alive (it is unref-ed otherwise).
      this.worker.ref();
      const closed = once(this.worker, 'message').catch(() => undefined);
      this.worker.postMessage('stop');
      await Promise.race([closed, once(this.worker, 'exit')]);
      await this.worker.terminate();
    })();
    return this.stopping;
  }
}
