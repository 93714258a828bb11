import type { Socket } from 'node:net';
import type { z } from 'zod';
import { type Address, formatAddress } from '../transport/address.js';
import { type ConnectionOptions, FramedConnection } from '../wire/connection.js';
import { CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../core/constants.js';
import { type Settle, waitForMessage } from '../core/deadline.js';
import { P2PError } from '../core/errors.js';
import { ALL_FEATURES, type Feature } from '../core/features.js';
import { clientHandshake, remoteError } from '../wire/handshake.js';
import type { ErrorMessage, Hello, Ticket, Welcome } from '../wire/messages.js';
import type { Invite } from '../wire/invite.js';
import { SerialQueue } from '../core/serial-queue.js';
import { tlsIdentityOf, tlsTransport } from '../transport/tls-transport.js';
import type { Endpoint } from '../transport/address.js';
import type { Transport } from '../transport/transport.js';
import { PROTOCOL_PACKAGE_VERSION } from '../core/version.js';

export interface ClientOptions extends ConnectionOptions {
  /** Who we are, sent in `hello` (e.g. "p2pservice-peer/0.1.0 (list)"). */
  agent?: string;
  /** Features to ask for (default: every feature this package implements). */
  features?: readonly Feature[];
  /** How to reach the server (default: TLS, presenting no certificate of our own). */
  transport?: Transport;
  /** The key of the private network to prove membership of (see membership.ts). */
  networkKey?: Buffer;
  /** The ticket of a members network, for its holders (identity/ticket.ts): read before each request to a holder. */
  ticket?: () => Ticket | undefined;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

type Reply = { type: string; id?: number | null };
/** A request as the caller writes it: the client assigns the id. */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const DEFAULT_AGENT = `p2pservice-protocol/${PROTOCOL_PACKAGE_VERSION}`;

let anonymousTls: Transport | undefined;
/** TLS without an identity of our own: enough to list, look up and download, not to share. */
function defaultTransport(): Transport {
  anonymousTls ??= tlsTransport();
  return anonymousTls;
}

/**
 * The client half of a request/reply conversation: connect, handshake, then one request at a time,
 * each reply checked against the request's id. Error frames become thrown RemoteErrors with their code.
 */
export class RequestClient<Out extends { type: string }, In extends Reply> {
  private nextId = 1;
  private readonly queue = new SerialQueue();
  readonly connection: FramedConnection<In, Out | Hello>;
  readonly label: string;
  /** The server's welcome, once the handshake is done. */
  welcome: Welcome | undefined;
  /** The features in force on this connection, once the handshake is done. */
  features: ReadonlySet<Feature> = new Set();
  /** The identity the server proved (TLS), undefined over a transport without identities. */
  readonly serverId: string | undefined;
  /** Once frames the server sends unasked are followed: who takes them, and who waits for a reply. */
  private notices: { isNotice: (frame: In) => boolean; take: (frame: In) => void } | undefined;
  private replyWaiter: Settle<In> | undefined;
  private readFailure: Error | undefined;

  protected constructor(
    socket: Socket,
    schema: z.ZodType<In>,
    readonly address: Address,
    protected readonly options: ClientOptions,
  ) {
    this.connection = new FramedConnection(socket, schema, options);
    this.label = formatAddress(address);
    this.serverId = tlsIdentityOf(socket, this.label);
  }

  protected static async openSocket(to: Endpoint, options: ClientOptions): Promise<Socket> {
    return (options.transport ?? defaultTransport()).dial(to, { timeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS });
  }

  /** True when the server said only members get in (and so accepted our proof). */
  get isPrivateNetwork(): boolean {
    return this.welcome?.network === 'private';
  }

  protected async handshake(invite?: Invite): Promise<Welcome> {
    try {
      const { opening, features } = await clientHandshake(this.connection, {
        agent: this.options.agent ?? DEFAULT_AGENT,
        features: this.options.features ?? ALL_FEATURES,
        from: this.label,
        ...(this.options.networkKey && { networkKey: this.options.networkKey }),
        ...(invite && { invite }),
      });
      this.welcome = opening;
      this.features = features;
      return opening;
    } catch (error) {
      this.connection.destroy();
      throw error;
    }
  }

  /** True if the server agreed to `feature` on this connection. */
  supports(feature: Feature): boolean {
    return this.features.has(feature);
  }

  /**
   * Why the conversation ended, once it has, if the server said so (its last word, an `error` frame about
   * the connection: a ban, a revocation) or the read failed; undefined while it goes on. Known only while
   * frames are followed (followNotices).
   */
  get endedBy(): Error | undefined {
    return this.readFailure;
  }

  /** Resolves once the connection has closed, for whatever reason. */
  get whenClosed(): Promise<void> {
    return this.connection.whenClosed;
  }

  /** Resolves once every request sent so far has been answered (or has failed). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * From now on every frame is read as it arrives: those `isNotice` says the server sent unasked go to
   * `take`, the others answer the request in flight. Without this, frames are read only as replies.
   */
  protected followNotices(isNotice: (frame: In) => boolean, take: (frame: In) => void): void {
    if (this.notices) throw new Error('notices are followed already');
    this.notices = { isNotice, take };
    void this.readAll();
  }

  private async readAll(): Promise<void> {
    for (;;) {
      let frame: In;
      try {
        frame = await this.connection.receive();
      } catch (error) {
        this.readFailure = error as Error;
        this.replyWaiter?.reject(this.readFailure);
        this.replyWaiter = undefined;
        return;
      }
      if (this.notices!.isNotice(frame)) {
        this.notices!.take(frame);
        continue;
      }
      const waiter = this.replyWaiter;
      this.replyWaiter = undefined;
      if (waiter) {
        waiter.resolve(frame);
      } else {
        // An answer nobody asked for (or one after its request timed out), or the server's last word
        // (an error about the connection): the conversation is over, and the next request says why.
        this.readFailure =
          frame.type === 'error' ? remoteError(frame as unknown as ErrorMessage, this.label) : new P2PError('UNEXPECTED_MESSAGE', `${this.label} sent "${frame.type}" when no request was waiting`);
        this.connection.destroy();
        return;
      }
    }
  }

  /** The next frame that is not a notice. */
  private nextReply(timeoutMs: number): Promise<In> {
    if (!this.notices) return this.connection.receive(timeoutMs);
    if (this.readFailure) return Promise.reject(this.readFailure);
    const { promise, settle } = waitForMessage<In>(timeoutMs, () => (this.replyWaiter = undefined));
    this.replyWaiter = settle;
    return promise;
  }

  /** Sends `message` with a fresh id and resolves with the matching reply (never an error frame). */
  protected request(message: WithoutId<Extract<Out, { id: number }>>, timeoutMs?: number): Promise<In> {
    return this.queue.run(async () => {
      const id = this.nextId++;
      await this.connection.send({ ...message, id } as unknown as Out);
      const reply = await this.nextReply(timeoutMs ?? this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
      if (reply.type === 'error') throw remoteError(reply as unknown as ErrorMessage, this.label);
      if (reply.id !== id) {
        this.connection.destroy();
        throw new P2PError('UNEXPECTED_MESSAGE', `${this.label} answered request ${id} with id ${reply.id}`);
      }
      return reply;
    });
  }

  /** Says goodbye and closes politely. */
  async close(): Promise<void> {
    if (!this.connection.isClosed) {
      try {
        await this.connection.send({ type: 'bye' } as unknown as Out);
      } catch {
        // Already gone: nothing to say goodbye to.
      }
    }
    await this.connection.end();
  }
}

export function expectReply<T extends Reply['type'], R extends Reply>(reply: R, type: T, from: string): Extract<R, { type: T }> {
  if (reply.type !== type) throw new P2PError('UNEXPECTED_MESSAGE', `${from} answered with "${reply.type}" instead of "${type}"`);
  return reply as Extract<R, { type: T }>;
}
