import type { PeerNode } from '../../node.js';
import type { PeerNodeEvents } from '../../node-events.js';

/** Fewest milliseconds between two progress events of one download (or of indexing) pushed to the page. */
export const UI_PROGRESS_EVERY_MS = 250;

export type Subscriber = (id: number, event: string, data: unknown) => void;

/**
 * The node's events as the page sees them, numbered once for every open page: the state the page loads
 * says the last number given before it was read, so the page can tell a state older than an event it
 * has already applied. Progress is thinned to a few events a second.
 */
export class PageEvents {
  readonly subscribers = new Set<Subscriber>();
  lastId = 0;
  private readonly listeners: { [E in keyof PeerNodeEvents]?: (...args: PeerNodeEvents[E]) => void };

  constructor(private readonly node: PeerNode) {
    const lastSent = new Map<number, number>();
    let lastIndexing = 0;
    const send = (event: string, data: unknown) => this.publish(event, data);
    this.listeners = {
      'download-started': (d) => send('download', d),
      'download-progress': (d) => {
        const now = Date.now();
        if (now - (lastSent.get(d.id) ?? 0) < UI_PROGRESS_EVERY_MS) return;
        lastSent.set(d.id, now);
        send('download', d);
      },
      'download-finished': (d) => send('download', d),
      'download-failed': (d) => send('download', d),
      'holder-failed': (d) => send('download', d),
      'share-indexing': (dir, progress) => {
        const now = Date.now();
        if (now - lastIndexing < UI_PROGRESS_EVERY_MS) return;
        lastIndexing = now;
        send('indexing', { dir, progress });
      },
      'share-started': (s) => send('share', s),
      'share-updated': (s) => send('share', s),
      'share-stopped': (s) => send('share-stopped', s),
      'tracker-lost': (s, r) => send('tracker', { state: 'reconnecting', share: s, reconnecting: r }),
      'tracker-back': (s) => send('tracker', { state: 'connected', share: s }),
      'tracker-connected': (info) => send('tracker', { state: 'connected', info }),
      'tracker-chosen': (tracker) => send('chosen', { tracker }),
    };
    for (const [event, listener] of Object.entries(this.listeners)) node.on(event as keyof PeerNodeEvents, listener as never);
  }

  /** Stops following the node. */
  close(): void {
    for (const [event, listener] of Object.entries(this.listeners)) this.node.off(event as keyof PeerNodeEvents, listener as never);
    this.subscribers.clear();
  }

  /** Numbers an event and sends it to every open page. */
  publish(event: string, data: unknown): void {
    const id = ++this.lastId;
    for (const subscriber of this.subscribers) subscriber(id, event, data);
  }
}
