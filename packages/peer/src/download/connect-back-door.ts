import type { Socket } from 'node:net';
import {
  ConnectBack,
  createIdentity,
  HANDSHAKE_TIMEOUT_MS,
  IdentityMismatchError,
  type Listener,
  listenEverywhere,
  P2PError,
  readFirstFrame,
  type RemotePeer,
  tlsTransport,
  type Transport,
} from '@p2pservice/protocol';

/** Connections that came before the tracker's answer named their token wait at most this many at once. */
const MAX_EARLY_ARRIVALS = 8;
/** The opening frame is small: a token. */
const OPENING_FRAME_BYTES = 1_024;

interface Waiting {
  holderId: string;
  resolve(socket: Socket): void;
  reject(error: Error): void;
}

/**
 * A short-lived listener where a firewalled holder connects back to this downloader (README#connect-back).
 * Every connection must open with `connect_back` and a token the tracker gave us, from the identity the
 * holder is listed with; anything else is dropped. A connection may arrive before the tracker's answer
 * with its token does, so a few wait a moment to be claimed.
 */
export class ConnectBackDoor {
  private readonly waiting = new Map<string, Waiting>();
  private readonly early = new Map<string, { socket: Socket; remote: RemotePeer }>();
  private listener: Listener | undefined;

  private constructor() {}

  /**
   * Opens the door on `host` (every address when absent), with the peer's transport, or with a
   * throwaway identity when the peer has none (a downloader that never shares).
   */
  static async open(transport: Transport, host: string | undefined): Promise<ConnectBackDoor> {
    const door = new ConnectBackDoor();
    const accept = (socket: Socket, remote: RemotePeer) => void door.admit(socket, remote);
    const listen = (t: Transport) => (host === undefined ? listenEverywhere(t, { port: 0 }, accept) : t.listen({ host, port: 0 }, accept));
    try {
      door.listener = await listen(transport);
    } catch (error) {
      if (!(error instanceof P2PError && error.code === 'LISTEN_FAILED' && /needs an identity/.test(error.message))) throw error;
      door.listener = await listen(tlsTransport({ identity: createIdentity('connect-back') }));
    }
    return door;
  }

  get port(): number {
    return this.listener!.address.port;
  }

  /** The connection `holderId` opens with `token`, within `timeoutMs`. */
  arrival(token: string, holderId: string, timeoutMs: number): Promise<Socket> {
    const early = this.early.get(token);
    if (early) {
      this.early.delete(token);
      return early.remote.id === holderId ? Promise.resolve(early.socket) : Promise.reject(this.impostor(early.socket, early.remote, holderId));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new P2PError('TIMEOUT', `the holder did not connect back within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(token, {
        holderId,
        resolve: (socket) => (clearTimeout(timer), resolve(socket)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  }

  /** Stops listening; connections already handed over stay open. Waiting arrivals are refused. */
  close(): void {
    void this.listener?.close();
    for (const { socket } of this.early.values()) socket.destroy();
    this.early.clear();
    for (const waiting of this.waiting.values()) waiting.reject(new P2PError('INTERRUPTED', 'stopped waiting for the holder'));
    this.waiting.clear();
  }

  private async admit(socket: Socket, remote: RemotePeer): Promise<void> {
    let opening: ConnectBack;
    try {
      opening = ConnectBack.parse(await readFirstFrame(socket, HANDSHAKE_TIMEOUT_MS, OPENING_FRAME_BYTES));
    } catch {
      // Not a connect-back (the tracker's reachability check, a scanner): nothing to say to it.
      socket.destroy();
      return;
    }
    const waiting = this.waiting.get(opening.token);
    if (waiting) {
      this.waiting.delete(opening.token);
      if (remote.id === waiting.holderId) waiting.resolve(socket);
      else waiting.reject(this.impostor(socket, remote, waiting.holderId));
    } else if (this.early.size < MAX_EARLY_ARRIVALS && !this.early.has(opening.token)) {
      this.early.set(opening.token, { socket, remote });
      socket.once('close', () => this.early.get(opening.token)?.socket === socket && this.early.delete(opening.token));
    } else {
      socket.destroy();
    }
  }

  private impostor(socket: Socket, remote: RemotePeer, holderId: string): Error {
    socket.destroy();
    return new IdentityMismatchError(`${remote.host}:${remote.port}`, holderId, remote.id ?? 'none').from('tracker');
  }
}
