import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** How often the WAL is checkpointed, off the tracker's thread. */
const CHECKPOINT_EVERY_MS = 250;

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

  private constructor(private readonly worker: Worker) {}

  static start(file: string): WalCheckpoints {
    const worker = new Worker(WORKER_URL, { workerData: { file, everyMs: CHECKPOINT_EVERY_MS } });
    // Kept from exiting the process on its own, and never fatal: at worst the WAL grows until close.
    worker.unref();
    worker.on('error', () => undefined);
    return new WalCheckpoints(worker);
  }

  /** Stops checkpointing and closes the thread's connection (once, however often it is called). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = once(this.worker, 'message').catch(() => undefined);
      this.worker.postMessage('stop');
      await Promise.race([closed, once(this.worker, 'exit')]);
      await this.worker.terminate();
    })();
    return this.stopping;
  }
}
