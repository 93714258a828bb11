import { type ContentHolder, formatAddress, type HolderSession } from '@p2pservice/protocol';

/** How long a holder connection no download uses stays open for the next one. */
export const POOLED_HOLDER_IDLE_MS = 5_000;

/** Idle connections kept per holder: a folder downloads four files at once (FOLDER_DOWNLOADS_AT_ONCE). */
export const MAX_POOLED_PER_HOLDER = 4;

interface Idle {
  session: HolderSession;
  timer: NodeJS.Timeout;
}

/**
 * Holder connections a download is done with, kept a few seconds for the next download from the same
 * holder: a folder of a thousand small files costs a TLS handshake (and a certificate check) per holder,
 * not per file. A connection is handed back only after a download ended well with it, and taken only
 * while it is open; the holder still checks every request, and every piece is still verified. One the
 * holder closed before we noticed is asked again on a new connection (source.ts, askUntilAnswered).
 */
export class HolderPool {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;

  /** An idle open connection to `holder` (the same address, port and identity), taken out of the pool. */
  take(holder: ContentHolder): HolderSession | undefined {
    const key = keyOf(holder);
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const { session, timer } = list.pop()!;
      clearTimeout(timer);
      if (list.length === 0) this.idle.delete(key);
      if (!session.connection.isClosed) return session;
    }
    return undefined;
  }

  /** Hands back a connection a download ended well with: kept a while, or closed when the pool is full. */
  give(holder: ContentHolder, session: HolderSession): void {
    const key = keyOf(holder);
    const list = this.idle.get(key) ?? [];
    if (this.closed || session.connection.isClosed || list.length >= MAX_POOLED_PER_HOLDER) {
      session.close().catch(() => undefined);
      return;
    }
    const entry: Idle = {
      session,
      timer: setTimeout(() => {
        const at = list.indexOf(entry);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0 && this.idle.get(key) === list) this.idle.delete(key);
        session.close().catch(() => undefined);
      }, POOLED_HOLDER_IDLE_MS),
    };
    entry.timer.unref();
    list.push(entry);
    this.idle.set(key, list);
  }

  /** Closes every idle connection (the network changed, or the node closes); `forGood` keeps none after. */
  close(forGood = true): void {
    this.closed = forGood;
    for (const list of this.idle.values()) {
      for (const { session, timer } of list) {
        clearTimeout(timer);
        session.close().catch(() => undefined);
      }
    }
    this.idle.clear();
  }
}

/** One holder: where it serves and the identity it must prove there (a connect-back one by the same). */
const keyOf = (holder: ContentHolder) => `${formatAddress(holder)}#${holder.id}`;
