import type { Socket } from 'node:net';
import type { Address, Endpoint } from './address.js';

/*
 * How programs of the network reach each other. Everything that opens or accepts a connection — the
 * tracker, a holder, the tracker's reachability check, and both client sessions — goes through a
 * Transport, so the layer under the frames (TCP today) is chosen in one place and passed in as a component.
 * A transport hands out sockets that the frame layer reads and writes; what it knows about the other end
 * beyond its address (the identity it proved) it says in the RemotePeer it reports. The programs use TLS
 * (tls-transport.ts); plain TCP (tcp-transport.ts) is for measuring what TLS costs.
 */

/** The other end of an accepted connection, as the transport saw it (never as that end claims). */
export interface RemotePeer {
  /** The address its packets came from (IPv4-mapped IPv6 turned back into IPv4). */
  host: string;
  port: number;
  /** The identity it proved (TLS: its certificate), if it presented one. */
  id?: string;
  /**
   * When its connection arrived (Date.now()), if the listener knows: the hello deadline counts from
   * then, so a slow TLS handshake does not lengthen it (spec: Handshake and versioning).
   */
  arrivedAt?: number;
}

/** What is left of a deadline of `timeoutMs` from `remote`'s arrival (at least 1 ms: the check still runs). */
export function timeLeftSinceArrival(remote: Pick<RemotePeer, 'arrivedAt'>, timeoutMs: number): number {
  return remote.arrivedAt === undefined ? timeoutMs : Math.max(1, timeoutMs - (Date.now() - remote.arrivedAt));
}

export interface DialOptions {
  /** Give up (CONNECT_FAILED) after this long. */
  timeoutMs?: number;
}

export interface ListenOptions extends Address {
  /** Advice for a port that is taken, e.g. "stop the other program or pass --port". */
  portHint?: string;
  /** Advice for an address that is not on this machine, e.g. "check PEER_HOST". */
  hostHint?: string;
  /** Errors of the listener after it started (e.g. running out of file descriptors), for the log. */
  onError?: (error: Error) => void;
}

export interface Listener {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: Address;
  /**
   * Stops accepting. Resolves once every accepted connection has closed as well: those are their owners'
   * to end (or destroy, when shutting down).
   */
  close(): Promise<void>;
}

export interface Transport {
  /** Whether `listen` can work: a TLS transport without an identity to present cannot (it can only dial). */
  readonly canListen: boolean;
  /**
   * Opens a connection, or fails with CONNECT_FAILED naming the address and the reason. When `to.id` is
   * set, the other end must prove that identity (IDENTITY_MISMATCH otherwise); a transport that cannot
   * check identities refuses such an endpoint rather than ignore it.
   */
  dial(to: Endpoint, options?: DialOptions): Promise<Socket>;
  /** Accepts connections until closed, or fails with LISTEN_FAILED and a hint. */
  listen(options: ListenOptions, onConnection: (socket: Socket, remote: RemotePeer) => void): Promise<Listener>;
}
