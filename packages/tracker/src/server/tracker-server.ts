import {
  type Address,
  type Feature,
  FramedConnection,
  endServed,
  nextRequest,
  type ServedEnd,
  P2PError,
  refuseConnection,
  type RemotePeer,
  SenderCounts,
  senderOf,
  serverHandshake,
  type TicketSigner,
  type TrackerRequest,
  TrackerRequest as TrackerRequestSchema,
  type Listener,
  timeLeftSinceArrival,
  type Transport,
} from '@p2pservice/protocol';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_TRACKER_LIMITS, type TrackerLimits } from '../settings/defaults.js';
import type { LogEntry, TrackerStore } from '../store/store.js';
import { TRACKER_AGENT } from './version.js';
import { BanWatch, banTime } from './ban-watch.js';
import { PartialOffers } from './partial-offers.js';
import { SearchWatches } from './search-watches.js';
import { Departures } from './departures.js';
import { MemberGate, type NetworkKind } from './member-gate.js';
import { MemberWatch } from './member-watch.js';
import { chargeNameBytes } from './member-quotas.js';
import { RequestWindows } from './request-windows.js';
import { DenialLog } from './denials.js';
import { dispatch } from './handlers.js';
import { InstanceLease } from './instance-lease.js';
import { SenderLines } from './sender-turns.js';
import { chargeFiles } from './share-handlers.js';
import { type PeerState, type TrackerConnection, type TrackerContext, type TrackerObserver, UNOBSERVED } from './peer-state.js';

/** The features a tracker offers (spec: Features). */
export const TRACKER_FEATURES: readonly Feature[] = ['who_has_content', 'who_has_sha256', 'search', 'connect_back', 'banned', 'members', 'quotas', 'partial', 'holder_files', 'watch'];

export interface TrackerOptions {
  host: string;
  port: number;
  /** Where the state lives; opened by the caller, who closes it after the tracker. */
  store: TrackerStore;
  logger: Logger;
  /** How peers reach the tracker and how it checks their listen ports: TLS with the tracker's identity. */
  transport: Transport;
  /** The network key: on a key network every peer proves it; on a members network a key-holder may enrol. */
  networkKey?: Buffer;
  /** Who may come in (README#members); default: key when networkKey is given, else open. */
  network?: NetworkKind;
  /** Signs the tickets of a members network: the tracker's identity (required for a members network). */
  ticketSigner?: TicketSigner;
  limits?: Partial<TrackerLimits>;
  /** Watches requests, errors and peers coming and going (the status page and metrics); none by default. */
  observer?: TrackerObserver;
}

/**
 * The tracker: accepts peer connections, keeps each connection's share in the store while it is open,
 * answers list and who-has queries. Bad input costs the sender its connection and nobody else anything.
 */
export class TrackerServer {
  private readonly sockets = new Set<Socket>();
  /** Connections held per sender (address, or IPv6 /64). */
  private readonly bySender = new SenderCounts();
  /** Connections held per identity, over all its addresses. */
  private readonly byMember = new SenderCounts();
  private readonly handlers = new Set<Promise<void>>();
  private readonly context: TrackerContext;
  private readonly denials: DenialLog;
  private listener: Listener | undefined;
  private closing: Promise<void> | undefined;
  private readonly lease: InstanceLease;
  private readonly bans: BanWatch;
  private readonly revocations: MemberWatch;
  /** Who each open connection is, and (after its hello) the features in force: to refuse it once banned. */
  private readonly clients = new Map<Socket, { remote: RemotePeer; features: ReadonlySet<Feature> }>();

  private constructor(
    readonly store: TrackerStore,
    private readonly logger: Logger,
    transport: Transport,
    limits: Partial<TrackerLimits>,
    options: Pick<TrackerOptions, 'networkKey' | 'network' | 'ticketSigner'>,
    observer: TrackerObserver,
  ) {
    const kind = options.network ?? (options.networkKey ? 'key' : 'open');
    if (kind === 'key' && !options.networkKey) throw new TypeError('a key network needs its networkKey');
    if (kind === 'members' && !options.ticketSigner) throw new TypeError("a members network needs a ticketSigner (the tracker's identity)");
    this.networkKey = kind === 'key' ? options.networkKey : undefined;
    const merged = { ...DEFAULT_TRACKER_LIMITS, ...limits };
    merged.replyFrameBytes = Math.min(merged.replyFrameBytes, merged.maxFrameBytes);
    this.context = {
      store,
      transport,
      limits: merged,
      observer,
      firewalled: new Map(),
      connectRequestsByAddress: new RequestWindows(merged.connectRequestWindowMs),
      filesBySender: new SenderCounts(),
      filesByIdentity: new SenderCounts(),
      searches: new SenderLines(merged.maxSearchesPerAddress),
      searchWindows: new RequestWindows(60_000),
      connectWindows: new RequestWindows(merged.connectRequestWindowMs),
      nameBytesByMember: new Map(),
      departures: new Departures(store),
      offers: new PartialOffers(merged),
      watches: new SearchWatches(merged),
      gate: new MemberGate({
        kind,
        members: store.members,
        ...(options.networkKey && { networkKey: options.networkKey }),
        // A gate that never signs (open and key networks) needs no signer.
        signer: options.ticketSigner ?? (undefined as never),
        ticketLifetimeMs: merged.ticketLifetimeMs,
        logger,
      }),
    };
    this.denials = new DenialLog(logger);
    // Losing the lease drops every connection at once; their removals finish (or fail) on their own,
    // and rejoining forgets whatever rows of this instance are left anyway.
    this.lease = new InstanceLease(store, merged.leaseMs, logger, () => this.destroySockets());
    this.bans = new BanWatch(store.bans, merged.banRefreshMs, logger, () => this.refuseBanned());
    const signing = kind === 'members' ? { identity: options.ticketSigner!.id } : undefined;
    this.revocations = new MemberWatch(store.members, merged.banRefreshMs, logger, (identity, entry) => this.refuseRevoked(identity, entry), signing);
  }

  /** The key every hello must prove (key networks only: on a members network it is one way in, checked by the gate). */
  private readonly networkKey: Buffer | undefined;

  /** Joins the network's instances in the store (forgetting what a previous run of this one left), then listens. */
  static async start(options: TrackerOptions): Promise<TrackerServer> {
    const { transport } = options;
    const tracker = new TrackerServer(options.store, options.logger, transport, options.limits ?? {}, options, options.observer ?? UNOBSERVED);
    const forgotten = await tracker.lease.start();
    if (forgotten > 0) options.logger.info({ peers: forgotten }, 'forgot peers of a previous run');
    try {
      await tracker.bans.start();
      await tracker.revocations.start();
      tracker.listener = await tracker.listen(options);
    } catch (error) {
      await tracker.bans.stop();
      await tracker.revocations.stop();
      await tracker.lease.stop();
      await options.store.membership.leave().catch(() => undefined);
      throw error;
    }
    options.logger.info({ ...tracker.address, db: options.store.location, instance: options.store.membership.instance, network: tracker.network }, 'tracker listening');
    return tracker;
  }

  private listen(options: TrackerOptions): Promise<Listener> {
    return options.transport.listen(
      {
        host: options.host,
        port: options.port,
        hostHint: 'pass --host 0.0.0.0 or one of its addresses',
        onError: (error) => options.logger.error({ err: error }, 'listener error'),
      },
      (socket, remote) => this.accept(socket, remote),
    );
  }

  get address(): Address {
    if (!this.listener) throw new Error('tracker is not listening');
    return this.listener.address;
  }

  get limits(): TrackerLimits {
    return this.context.limits;
  }

  /** Who may come in: anyone, key-holders, or members. */
  get network(): NetworkKind {
    return this.context.gate.kind;
  }

  /** How many searches its connections watch now (feature watch). */
  get watches(): number {
    return this.context.watches.size;
  }

  /** Whether this tracker holds its lease and serves (false while it rejoins after losing it). */
  get serving(): boolean {
    return this.lease.serving;
  }

  /**
   * Stops accepting, drops every connection (their rows are deleted before this resolves) and leaves
   * the network's instances.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.lease.stop();
      await this.bans.stop();
      await this.revocations.stop();
      const stopped = this.listener?.close();
      await this.dropConnections();
      await stopped;
      await this.context.store.membership.leave().catch((error) => this.logger.warn({ err: error }, 'could not leave the network cleanly; its lease will lapse'));
      this.logger.info('tracker stopped');
    })();
    return this.closing;
  }

  /** Refuses the open connections whose identity or address is banned now: their shares leave with them. */
  private refuseBanned(): void {
    for (const [socket, { remote, features }] of this.clients) {
      const refusal = this.bans.refusalOf(remote, features);
      if (!refusal) continue;
      this.logger.info({ remote: `${remote.host}:${remote.port}`, identity: remote.id }, refusal.message);
      this.context.observer.errorSent(refusal.code);
      refuseConnection(socket, refusal);
    }
  }

  /** Refuses the open connections of an identity the operator revoked: its shares leave with them. */
  private refuseRevoked(identity: string, entry: LogEntry): void {
    // In the words a later hello gets (member-gate.ts): the log's detail begins with the member's name.
    const name = entry.detail.slice(0, Math.max(0, entry.detail.lastIndexOf(', by ')));
    for (const [socket, { remote }] of this.clients) {
      if (remote.id !== identity) continue;
      const refusal = new P2PError('ACCESS_DENIED', `this identity (${name}) was revoked from the network at ${banTime(entry.at)}`);
      this.logger.info({ remote: `${remote.host}:${remote.port}`, identity }, refusal.message);
      this.context.observer.errorSent(refusal.code);
      refuseConnection(socket, refusal);
    }
  }

  /** Drops every connection and waits until each one's rows are gone (or their removal failed). */
  private async dropConnections(): Promise<void> {
    this.destroySockets();
    await Promise.allSettled(this.handlers);
  }

  private destroySockets(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Connections open now. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Takes a connection within the limits, in all and per sender (address, or IPv6 /64); one beyond them,
   * or one that arrives while this tracker is not serving, is refused at once with the reason and never
   * counted: a flood of refused connections holds no place another sender could use.
   */
  private accept(socket: Socket, remote: RemotePeer): void {
    const sender = senderOf(remote.host);
    const refusal = this.refusalOf(sender, remote.id);
    if (refusal) {
      this.context.observer.errorSent(refusal.code);
      return refuseConnection(socket, refusal);
    }
    this.sockets.add(socket);
    this.clients.set(socket, { remote, features: new Set() });
    this.bySender.add(sender);
    if (remote.id !== undefined) this.byMember.add(remote.id);
    const handler = this.serve(socket, remote)
      .catch((error) => this.logger.error({ err: error }, 'connection handler failed'))
      .finally(() => {
        this.sockets.delete(socket);
        this.clients.delete(socket);
        this.bySender.remove(sender);
        if (remote.id !== undefined) this.byMember.remove(remote.id);
        this.handlers.delete(handler);
      });
    this.handlers.add(handler);
  }

  private refusalOf(sender: string, identity: string | undefined): P2PError | undefined {
    const { maxConnections, maxConnectionsPerAddress, maxConnectionsPerMember } = this.context.limits;
    if (this.sockets.size >= maxConnections) return new P2PError('TOO_MANY_CONNECTIONS', `the tracker is at its limit of ${maxConnections} connections`);
    if (!this.lease.serving) return new P2PError('UNAVAILABLE', 'this tracker lost its lease on the network database and is rejoining', 'try another tracker, or again in a moment');
    if (this.bySender.of(sender) >= maxConnectionsPerAddress) return new P2PError('TOO_MANY_CONNECTIONS', `${sender} already has ${maxConnectionsPerAddress} connections open to this tracker`);
    // Before the hello, so no feature is known: the code every client understands.
    if (identity !== undefined && this.byMember.of(identity) >= maxConnectionsPerMember) {
      return new P2PError('TOO_MANY_CONNECTIONS', `this identity already has ${maxConnectionsPerMember} connections open to this tracker (its quota)`);
    }
    return undefined;
  }

  private async serve(socket: Socket, remote: RemotePeer): Promise<void> {
    const { limits } = this.context;
    const log = this.logger.child({ remote: `${remote.host}:${remote.port}` });
    const connection: TrackerConnection = new FramedConnection(socket, TrackerRequestSchema, {
      maxFrameBytes: limits.maxFrameBytes,
      writeTimeoutMs: limits.writeTimeoutMs,
    });
    let state: PeerState | undefined;
    try {
      const { opening: hello, features } = await serverHandshake(connection, {
        agent: TRACKER_AGENT,
        features: TRACKER_FEATURES,
        // The deadline counts from the connection's arrival, TLS handshake included (spec: Handshake).
        timeoutMs: timeLeftSinceArrival(remote, limits.handshakeTimeoutMs),
        welcome: { heartbeatMs: limits.heartbeatMs, peerTimeoutMs: limits.peerTimeoutMs },
        ...(this.networkKey && { networkKey: this.networkKey }),
        admit: (hello, agreed) => this.bans.refusalOf(remote, agreed) ?? this.context.gate.admit(socket, remote, hello, agreed),
      });
      this.clients.set(socket, { remote, features });
      log.debug({ agent: hello.agent, features: [...features] }, 'hello');
      state = {
        connection,
        remote,
        features,
        log,
        sender: senderOf(remote.host),
        peer: undefined,
        registration: undefined,
        files: 0,
        charged: 0,
        nameBytes: 0,
        cleanup: undefined,
        listedAs: undefined,
        verifiedPort: undefined,
        firewalledAs: undefined,
        connectRequests: { since: 0, count: 0 },
        ticket: undefined,
      };
      while (!connection.isClosed) {
        // A frozen or cut-off peer is dropped, with its share.
        const message = await nextRequest(connection, limits.peerTimeoutMs, 'dropping the connection and its share');
        if (message.type === 'bye') break;
        const answered = this.context.observer.requestStarted(message.type);
        try {
          await dispatch(this.context, state, message);
        } finally {
          answered();
        }
      }
      await connection.end();
    } catch (error) {
      this.logEnd(await endServed(connection, error), state, log, remote);
    } finally {
      connection.destroy();
      if (state) this.context.offers.withdrawAll(state);
      if (state) this.context.watches.unwatchAll(state);
      if (state?.firewalledAs !== undefined && this.context.firewalled.get(state.firewalledAs) === state) this.context.firewalled.delete(state.firewalledAs);
      if (state?.peer !== undefined) await this.forget(state);
      if (state) chargeFiles(this.context, state, 0, false);
      if (state) chargeNameBytes(this.context.nameBytesByMember, this.context.limits, state, 0, false);
    }
  }

  /** A peer's rows leave with its connection, however it ended (or go to its identity coming back at once). */
  private async forget(state: PeerState): Promise<void> {
    try {
      // The end of its last registration first: its rows are all there, then all gone.
      await state.cleanup;
      const removed = await this.context.departures.remove(state.remote.id, state.peer!);
      if (removed) state.log.info({ peer: state.peer }, 'peer left; its files are gone from the list');
      else state.log.info({ peer: state.peer }, 'peer left and came back; its new registration took its rows over');
      this.context.observer.peerLeft(state.listedAs ?? `${state.remote.host}:${state.remote.port}`);
    } catch (error) {
      // The PostgreSQL store tries again at its next sweep; failing that, the others sweep this instance.
      state.log.warn({ err: error, peer: state.peer }, 'could not remove a departed peer yet');
    }
  }

  /** Says how a connection ended on an error: in the log (refused members summed up), and in the metrics. */
  private logEnd(end: ServedEnd, state: PeerState | undefined, log: Logger, remote: RemotePeer): void {
    if (end.kind === 'gone') {
      // A peer that did not read what it was sent is worth a line; one that is simply gone is not.
      if (end.error.code === 'TIMEOUT') log.warn({ code: end.error.code }, end.error.message);
      return;
    }
    if (end.kind === 'internal') {
      log.error({ err: end.error }, 'unexpected error on a connection');
      this.context.observer.errorSent('INTERNAL');
      return;
    }
    // Not a member: one line in the log at most (a flood of attempts is summed up).
    if (end.error.code === 'ACCESS_DENIED' && state === undefined) this.denials.denied(`${remote.host}:${remote.port}`, end.error.message);
    else log.warn({ code: end.error.code }, end.error.message);
    this.context.observer.errorSent(end.error.code);
  }
}
