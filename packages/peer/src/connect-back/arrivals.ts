import type { Socket } from 'node:net';
import { ConnectBack, formatMs, HANDSHAKE_TIMEOUT_MS, IdentityMismatchError, P2PError, readFirstFrame, type RemotePeer } from '@p2pservice/protocol';

/** Connections that came before the tracker's answer named their token wait at most this many at once… */
const MAX_EARLY_ARRIVALS = 8;
/** …and at most this long: the answer is on its way when the holder dials, or it never comes. */
const EARLY_ARRIVAL_MS = 10_000;
/** The opening frame is small: a token. */
const OPENING_FRAME_BYTES = 1_024;

interface Waiting {
  holderId: string;
  resolve(socket: Socket): void;
  reject(error: Error): void;
}

/**
 * The connections firewalled holders open to this peer (README#connect-back), matched to the requests
 * that asked for them. Every connection must open with `connect_back` and a token the tracker gave us,
 * from the identity the holder is listed with; anything else is dropped. A connection may arrive before
 * the tracker's answer with its token does, so a few wait a moment to be claimed.
 */
export class ConnectBackArrivals {
  private readonly waiting = new Map<string, Waiting>();
  private readonly early = new Map<string, { socket: Socket; remote: RemotePeer; expiry: NodeJS.Timeout }>();

  constructor(private readonly earlyArrivalMs = EARLY_ARRIVAL_MS) {}

  /** The connection `holderId` opens with `token`, within `timeoutMs`. */
  arrival(token: string, holderId: string, timeoutMs: number): Promise<Socket> {
    const early = this.early.get(token);
    if (early) {
      // Claimed: it is a download's connection now, no longer one waiting to be dropped.
      clearTimeout(early.expiry);
      this.early.delete(token);
      return early.remote.id === holderId ? Promise.resolve(early.socket) : Promise.reject(this.impostor(early.socket, early.remote, holderId));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new P2PError('TIMEOUT', `the holder did not connect back within ${formatMs(timeoutMs)}`));
      }, timeoutMs);
      this.waiting.set(token, {
        holderId,
        resolve: (socket) => (clearTimeout(timer), resolve(socket)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  }

  /** Refuses every arrival still waiting, and drops the early ones; connections handed over stay open. */
  close(): void {
    for (const { socket, expiry } of this.early.values()) {
      clearTimeout(expiry);
      socket.destroy();
    }
    this.early.clear();
    for (const waiting of this.waiting.values()) waiting.reject(new P2PError('INTERRUPTED', 'stopped waiting for the holder'));
    this.waiting.clear();
  }

  /** A connection on a door of the service's own: it must open with `connect_back`, or it is dropped. */
  async admit(socket: Socket, remote: RemotePeer): Promise<void> {
    let opening: ConnectBack;
    try {
      opening = ConnectBack.parse((await readFirstFrame(socket, HANDSHAKE_TIMEOUT_MS, OPENING_FRAME_BYTES)).value);
    } catch {
      // Not a connect-back (the tracker's reachability check, a scanner): nothing to say to it.
      socket.destroy();
      return;
    }
    this.take(socket, remote, opening);
  }

  /** A connection that opened with `connect_back` (read by whoever accepted it). */
  take(socket: Socket, remote: RemotePeer, opening: ConnectBack): void {
    const waiting = this.waiting.get(opening.token);
    if (waiting) {
      this.waiting.delete(opening.token);
      if (remote.id === waiting.holderId) waiting.resolve(socket);
      else waiting.reject(this.impostor(socket, remote, waiting.holderId));
    } else if (this.early.size < MAX_EARLY_ARRIVALS && !this.early.has(opening.token)) {
      const forget = () => this.early.get(opening.token)?.socket === socket && this.early.delete(opening.token);
      const expiry = setTimeout(() => (forget(), socket.destroy()), this.earlyArrivalMs).unref();
      this.early.set(opening.token, { socket, remote, expiry });
      socket.once('close', () => (clearTimeout(expiry), forget()));
    } else {
      socket.destroy();
    }
  }

  private impostor(socket: Socket, remote: RemotePeer, holderId: string): Error {
    socket.destroy();
    return new IdentityMismatchError(`${remote.host}:${remote.port}`, holderId, remote.id ?? 'none').from('tracker');
  }
}
