import type { TrackerSession } from '@p2pservice/protocol';
import { askTracker, isTrackerOutage, type NetworkAccess, openTracker } from './tracker-access.js';

/**
 * How long a question session stays open after its last question. Long enough for a person paging or
 * searching in the page, well under a tracker's peer timeout (45 s by default), so the tracker never
 * has to drop it.
 */
export const KEPT_SESSION_IDLE_MS = 10_000;

/**
 * One tracker session kept open between questions (list pages, searches), for faces that ask many in a
 * row: each question then costs a round trip instead of a TLS handshake and a hello too. A question on a
 * session the tracker has dropped (restart, timeout) is asked once more on a fresh one, with the usual
 * failover between the network's trackers. Questions only: they are safe to ask twice. While idle the
 * session does not keep the process alive, so a command that asks once and returns exits at once.
 */
export class KeptTrackerSession {
  private session: Promise<TrackerSession> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private busy = 0;
  private closed = false;

  constructor(
    private readonly access: NetworkAccess,
    private readonly agent: string,
    private readonly idleMs = KEPT_SESSION_IDLE_MS,
  ) {}

  async ask<T>(question: (session: TrackerSession) => Promise<T>): Promise<T> {
    if (this.closed) return askTracker(this.access, this.agent, question);
    const reused = this.session !== undefined;
    try {
      return await this.askOn(this.current(), question);
    } catch (error) {
      if (!reused || !isTrackerOutage(error)) throw error;
      return this.askOn(this.current(), question);
    }
  }

  /** Closes the kept session; later questions each open and close their own. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drop();
  }

  private current(): Promise<TrackerSession> {
    if (!this.session) {
      const opening = openTracker(this.access, this.agent);
      this.session = opening;
      opening.then(
        (session) => void session.whenClosed.then(() => this.session === opening && (this.session = undefined)),
        () => this.session === opening && (this.session = undefined),
      );
    }
    return this.session;
  }

  private async askOn<T>(opening: Promise<TrackerSession>, question: (session: TrackerSession) => Promise<T>): Promise<T> {
    clearTimeout(this.idleTimer);
    this.busy++;
    let session: TrackerSession | undefined;
    try {
      session = await opening;
      session.connection.socket.ref();
      return await question(session);
    } catch (error) {
      if (isTrackerOutage(error) && this.session === opening) await this.drop();
      throw error;
    } finally {
      if (--this.busy === 0 && !this.closed) {
        session?.connection.socket.unref();
        this.idleTimer = setTimeout(() => void this.drop(), this.idleMs).unref();
      }
    }
  }

  private async drop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const opening = this.session;
    this.session = undefined;
    await opening?.then((session) => session.close()).catch(() => undefined);
  }
}
