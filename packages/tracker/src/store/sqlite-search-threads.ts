import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RankedEntry, SearchCursor, SearchQuery } from '@p2pservice/protocol';
import { searchTimeout } from './search-ranking.js';
import type { SearchReply, SearchTask } from './sqlite-search-worker.js';

/** Searches run at once, each on a thread of its own; more wait for one (their time budget runs meanwhile). */
const SEARCH_THREADS = 2;

// From src/store (tests) and dist/store (the build) alike, the compiled worker is at the same place.
const WORKER_URL = new URL('../../dist/store/sqlite-search-worker.js', import.meta.url);

interface Thread {
  worker: Worker;
  busy: boolean;
}

/**
 * The search threads of a SQLite tracker: started when first needed, one search each at a time, a
 * broad search's reading and ranking never on the tracker's own thread.
 */
export class SearchThreads {
  private readonly threads: Thread[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly replies = new Map<number, (reply: SearchReply) => void>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly file: string) {}

  async search(query: SearchQuery, after: SearchCursor | null, limit: number, deadline: number): Promise<RankedEntry[]> {
    const thread = await this.take();
    try {
      const id = this.nextId++;
      const reply = await new Promise<SearchReply>((resolve) => {
        this.replies.set(id, resolve);
        thread.worker.postMessage({ id, query, after, limit, deadline } satisfies SearchTask);
      });
      if ('failed' in reply) throw new Error(`search thread: ${reply.failed}`);
      if ('timedOutAfter' in reply.outcome) throw searchTimeout(reply.outcome.timedOutAfter);
      return reply.outcome.entries;
    } finally {
      thread.busy = false;
      this.waiting.shift()?.();
    }
  }

  /** Ends every thread, each after it closed its connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      this.threads.splice(0).map(async ({ worker }) => {
        // Waited for, the thread keeps the process alive (it is unref-ed otherwise).
        worker.ref();
        const closed = once(worker, 'message').catch(() => undefined);
        worker.postMessage('stop');
        await Promise.race([closed, once(worker, 'exit')]);
        await worker.terminate();
      }),
    );
  }

  private async take(): Promise<Thread> {
    for (;;) {
      if (this.stopped) throw new Error('the store is closed');
      const idle = this.threads.find((thread) => !thread.busy) ?? (this.threads.length < SEARCH_THREADS ? this.start() : undefined);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private start(): Thread {
    const worker = new Worker(WORKER_URL, { workerData: { file: this.file } });
    worker.on('message', (reply: SearchReply | 'closed') => {
      if (reply === 'closed') return;
      const resolve = this.replies.get(reply.id);
      this.replies.delete(reply.id);
      resolve?.(reply);
    });
    worker.on('error', () => undefined);
    // Idle threads do not keep the process alive.
    worker.unref();
    const thread = { worker, busy: false };
    this.threads.push(thread);
    return thread;
  }
}
