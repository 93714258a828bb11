import { createServer, type Server, type Socket } from 'node:net';
import {
  type Address,
  connectTo,
  type FileEntry,
  formatAddress,
  FramedConnection,
  formatMs,
  normalizeRemoteAddress,
  P2PError,
  serverHandshake,
  type TrackerReply,
  TrackerRequest,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { DEFAULT_TRACKER_LIMITS, type TrackerLimits } from './limits.js';
import { TrackerStore } from './store.js';

export const TRACKER_AGENT = 'p2pservice-tracker/0.1.0';

export interface TrackerOptions {
  host: string;
  port: number;
  /** SQLite file (created if missing). */
  dbFile: string;
  logger: Logger;
  limits?: Partial<TrackerLimits>;
}

type Connection = FramedConnection<TrackerRequest, TrackerReply>;

/** What one connection has told the tracker so far. */
interface Session {
  readonly host: string;
  peerId: number | undefined;
  /** Files of a share sent in several `register` frames, committed when the last one arrives. */
  pending: FileEntry[];
  /** The listen port the tracker last managed to connect back to. */
  verifiedPort: number | undefined;
}

/**
 * The tracker: accepts peer connections, keeps each connection's share in the store while it is open,
 * answers list and who-has queries. Bad input costs the sender its connection and nobody else anything.
 */
export class TrackerServer {
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly limits: TrackerLimits;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly store: TrackerStore,
    private readonly logger: Logger,
    limits: Partial<TrackerLimits>,
  ) {
    this.limits = { ...DEFAULT_TRACKER_LIMITS, ...limits };
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: TrackerOptions): Promise<TrackerServer> {
    const store = new TrackerStore(options.dbFile);
    const stale = store.clearPeers();
    if (stale > 0) options.logger.info({ peers: stale }, 'forgot peers of a previous run');
    const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 });
    const tracker = new TrackerServer(server, store, options.logger, options.limits ?? {});
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      store.close();
      const code = (error as NodeJS.ErrnoException).code;
      const where = `${options.host}:${options.port}`;
      if (code === 'EADDRINUSE') throw new P2PError('LISTEN_FAILED', `port ${where} is already in use`, 'stop the other program or pass --port');
      if (code === 'EACCES') throw new P2PError('LISTEN_FAILED', `not allowed to listen on ${where}`, 'use a port above 1023');
      if (code === 'EADDRNOTAVAIL') throw new P2PError('LISTEN_FAILED', `address ${options.host} is not on this machine`, 'pass --host 0.0.0.0 or one of its addresses');
      throw error;
    }
    server.on('error', (error) => options.logger.error({ err: error }, 'listener error'));
    options.logger.info({ ...tracker.address, db: options.dbFile }, 'tracker listening');
    return tracker;
  }

  get address(): Address {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('tracker is not listening');
    return { host: address.address, port: address.port };
  }

  /** Stops accepting, drops every connection (their rows go with them), closes the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        for (const socket of this.sockets) socket.destroy();
      });
      await Promise.allSettled(this.handlers);
      this.store.close();
      this.logger.info('tracker stopped');
    })();
    return this.closing;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const handler = this.serve(socket)
      .catch((error) => this.logger.error({ err: error }, 'connection handler failed'))
      .finally(() => {
        this.sockets.delete(socket);
        this.handlers.delete(handler);
      });
    this.handlers.add(handler);
  }

  private async serve(socket: Socket): Promise<void> {
    const host = normalizeRemoteAddress(socket.remoteAddress ?? 'unknown');
    const log = this.logger.child({ remote: `${host}:${socket.remotePort}` });
    const connection: Connection = new FramedConnection(socket, TrackerRequest, {
      maxFrameBytes: this.limits.maxFrameBytes,
      writeTimeoutMs: this.limits.writeTimeoutMs,
    });
    const session: Session = { host, peerId: undefined, pending: [], verifiedPort: undefined };
    const fromHere = (this.perAddress.get(host) ?? 0) + 1;
    this.perAddress.set(host, fromHere);
    try {
      if (this.sockets.size > this.limits.maxConnections) {
        throw new P2PError('TOO_MANY_CONNECTIONS', `the tracker is at its limit of ${this.limits.maxConnections} connections`);
      }
      if (fromHere > this.limits.maxConnectionsPerAddress) {
        throw new P2PError('TOO_MANY_CONNECTIONS', `${host} already has ${this.limits.maxConnectionsPerAddress} connections open to this tracker`);
      }
      const hello = await serverHandshake(connection, TRACKER_AGENT, this.limits.handshakeTimeoutMs, {
        heartbeatMs: this.limits.heartbeatMs,
        peerTimeoutMs: this.limits.peerTimeoutMs,
      });
      log.debug({ agent: hello.agent }, 'hello');
      while (!connection.isClosed) {
        const message = await this.receiveBeforeTimeout(connection);
        if (message.type === 'bye') break;
        await this.handle(connection, session, message, log);
      }
      await connection.end();
    } catch (error) {
      if (error instanceof P2PError && error.code !== 'CONNECTION_CLOSED') {
        log.warn({ code: error.code }, error.message);
        await connection.fail(error);
      } else if (!(error instanceof P2PError)) {
        log.error({ err: error }, 'unexpected error on a connection');
        await connection.fail(new P2PError('INTERNAL', 'internal tracker error'));
      }
    } finally {
      connection.destroy();
      const left = (this.perAddress.get(host) ?? 1) - 1;
      if (left > 0) this.perAddress.set(host, left);
      else this.perAddress.delete(host);
      if (session.peerId !== undefined) {
        this.store.removePeer(session.peerId);
        log.info({ peer: session.peerId }, 'peer left; its files are gone from the list');
      }
    }
  }

  /**
   * Other peers will download from host:port, so the tracker tries it first: a peer behind a firewall
   * or NAT learns so at once, instead of having its files listed where nobody can fetch them.
   */
  private async checkReachable(host: string, port: number): Promise<void> {
    try {
      const socket = await connectTo({ host, port }, this.limits.reachTimeoutMs);
      socket.destroy();
    } catch (error) {
      const reason = error instanceof P2PError ? error.message.replace(/^cannot connect to [^:]+:\d+: /, '') : String(error);
      throw new P2PError('UNREACHABLE', `the tracker cannot reach your listen port ${formatAddress({ host, port })} (${reason}); check that no firewall blocks incoming connections to it`);
    }
  }

  /** The next message, or PEER_TIMEOUT if the peer (frozen, cut off) stays silent too long. */
  private async receiveBeforeTimeout(connection: Connection): Promise<TrackerRequest> {
    try {
      return await connection.receive(this.limits.peerTimeoutMs);
    } catch (error) {
      if (error instanceof P2PError && error.code === 'TIMEOUT') {
        throw new P2PError('PEER_TIMEOUT', `no message for ${formatMs(this.limits.peerTimeoutMs)}; dropping the connection and its share`);
      }
      throw error;
    }
  }

  private async handle(connection: Connection, session: Session, message: TrackerRequest, log: Logger): Promise<void> {
    switch (message.type) {
      case 'hello':
        throw new P2PError('UNEXPECTED_MESSAGE', 'hello was already exchanged');
      case 'register': {
        const staged = session.pending.length + message.files.length;
        if (staged > this.limits.maxFilesPerShare) {
          throw new P2PError('TOO_MANY_FILES', `a share of more than ${this.limits.maxFilesPerShare} files is over the limit`);
        }
        session.pending.push(...message.files);
        if (message.more) {
          await connection.send({ type: 'registered', id: message.id, files: staged, complete: false });
          return;
        }
        const files = session.pending;
        session.pending = [];
        const duplicate = findDuplicateName(files);
        if (duplicate !== undefined) throw new P2PError('DUPLICATE_NAME', `the share names "${duplicate}" twice`);
        if (this.limits.verifyReachable && session.verifiedPort !== message.listenPort) {
          await this.checkReachable(session.host, message.listenPort);
          session.verifiedPort = message.listenPort;
        }
        session.peerId ??= this.store.addPeer(session.host, message.listenPort);
        this.store.replaceShare(session.peerId, message.listenPort, files);
        log.info({ peer: session.peerId, port: message.listenPort, files: files.length }, 'share registered');
        await connection.send({ type: 'registered', id: message.id, files: files.length, complete: true });
        return;
      }
      case 'update': {
        if (session.peerId === undefined || session.pending.length > 0) {
          throw new P2PError('UNEXPECTED_MESSAGE', 'update before a complete register');
        }
        const duplicate = findDuplicateName(message.added);
        if (duplicate !== undefined) throw new P2PError('DUPLICATE_NAME', `the update adds "${duplicate}" twice`);
        const files = this.store.applyUpdate(session.peerId, message.added, message.removed, this.limits.maxFilesPerShare);
        log.info({ peer: session.peerId, added: message.added.length, removed: message.removed.length, files }, 'share updated');
        await connection.send({ type: 'updated', id: message.id, files });
        return;
      }
      case 'who_has_content': {
        const holders = this.store.whoHasContent(message.sha256);
        await connection.send({ type: 'content_holders', id: message.id, sha256: message.sha256, holders });
        return;
      }
      case 'ping':
        await connection.send({ type: 'pong', id: message.id });
        return;
      case 'list': {
        const page = this.store.listPage(message.after, message.limit);
        await connection.send({ type: 'list_page', id: message.id, ...page });
        return;
      }
      case 'who_has': {
        const contents = this.store.whoHas(message.name);
        await connection.send({ type: 'holders', id: message.id, name: message.name, contents });
        return;
      }
      case 'bye':
        return;
    }
  }
}

function findDuplicateName(files: readonly FileEntry[]): string | undefined {
  const seen = new Set<string>();
  for (const { name } of files) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
