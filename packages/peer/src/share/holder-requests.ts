import { formatMs, type FramedConnection, type HolderReply, type HolderRequest, P2PError, type TicketFrame } from '@p2pservice/protocol';

/** Requests a holder reads ahead of the one it serves: a downloader that sends more waits (TCP backpressure). */
export const MAX_PIPELINED_REQUESTS = 4;

type Request = Exclude<HolderRequest, TicketFrame>;

/**
 * Reads a holder's connection all the time, not only between requests: a `ticket` frame is taken the
 * moment it arrives, even while an upload streams, so a member's renewed ticket keeps a long fetch going
 * and a revoked member's ends it. Other requests wait in a short line for the serving loop.
 */
export class HolderRequests {
  private readonly line: Request[] = [];
  private failure: unknown;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;

  constructor(
    private readonly connection: FramedConnection<HolderRequest, HolderReply>,
    private readonly onTicket: (frame: TicketFrame) => void,
  ) {
    void this.read();
  }

  /** The next request, or PEER_TIMEOUT after `idleMs` without one; the connection's failure, if it failed. */
  async next(idleMs: number): Promise<Request> {
    for (;;) {
      const request = this.line.shift();
      if (request) {
        this.room?.();
        return request;
      }
      if (this.failure !== undefined) throw this.failure;
      let timer: NodeJS.Timeout | undefined;
      const idle = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), idleMs);
      }).finally(() => clearTimeout(timer));
      this.wake = undefined;
      if (idle && this.line.length === 0 && this.failure === undefined) {
        throw new P2PError('PEER_TIMEOUT', `no request for ${formatMs(idleMs)}; closing the connection`);
      }
    }
  }

  private async read(): Promise<void> {
    try {
      while (!this.connection.isClosed) {
        if (this.line.length >= MAX_PIPELINED_REQUESTS) await new Promise<void>((resolve) => (this.room = resolve));
        this.room = undefined;
        const frame = await this.connection.receive();
        if (frame.type === 'ticket') this.onTicket(frame);
        else this.line.push(frame);
        this.wake?.();
      }
      throw new P2PError('CONNECTION_CLOSED', 'the downloader closed the connection');
    } catch (error) {
      this.failure = error;
      this.wake?.();
    }
  }
}
