import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { Socket } from 'node:net';
import {
  type Address,
  ConnectBack,
  type ConnectNotice,
  CONNECT_TIMEOUT_MS,
  encodeFrame,
  formatAddress,
  type Feature,
  type Fetch,
  FramedConnection,
  HANDSHAKE_TIMEOUT_MS,
  type Held,
  type HolderReply,
  HolderRequest,
  endServed,
  type Listener,
  listenEverywhere,
  MAX_FRAME_BYTES,
  MAX_UPLOAD_QUEUE,
  P2PError,
  type Pieces,
  pieceSizeFor,
  quoted,
  readFirstFrame,
  refuseConnection,
  SenderCounts,
  senderOf,
  type RemotePeer,
  serverHandshake,
  timeLeftSinceArrival,
  TicketChecker,
  type Transport,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { AGENTS } from '../network/agents.js';
import type { NetworkAccess } from '../network/tracker-access.js';
import type { HolderAdmission } from '../network/member-tickets.js';
import { ReadBuffers, readRange } from './file-io.js';
import { HolderRequests } from './holder-requests.js';
import { identityOf, isInside, sameIdentity } from '../util/file-checks.js';
import type { IndexedFile, ShareIndex } from './share-index.js';
import type { PartialContents } from './partial-content.js';
import { GivenPieces } from './given-pieces.js';
import { answerHeld, missingPiece } from './held-pieces.js';
import { UploadRate } from './upload-rate.js';
import { type UploadSlotLimits, UploadSlots } from './upload-slots.js';
import { DEFAULT_MAX_UPLOADS } from '../settings/defaults.js';
import { PEER_SETTINGS } from '../settings/table.js';

export type { HolderAdmission };

/** The features a holder offers (spec: Features). */
export const HOLDER_FEATURES: readonly Feature[] = ['queue', 'members', 'partial'];

/** Admits every downloader: a holder outside a members network. */
const EVERYONE: HolderAdmission = { network: () => 'other', checker: new TicketChecker(() => false) };

/** Connections a holder keeps at once (downloading, queued or idle); one more gets TOO_MANY_CONNECTIONS. */
export const HOLDER_MAX_CONNECTIONS = 256;

/** Uploads one sender (an address, or an IPv6 /64) gets at once, of DEFAULT_MAX_UPLOADS: the rest are others'. */
export const HOLDER_MAX_UPLOADS_PER_ADDRESS = 4;

/** Places one sender holds in the upload line, of MAX_UPLOAD_QUEUE: one machine cannot fill it. */
export const MAX_UPLOAD_QUEUE_PER_ADDRESS = 8;

/**
 * Connections a holder keeps at once from one sender (an address, or an IPv6 /64): so that one machine
 * cannot take all HOLDER_MAX_CONNECTIONS. A downloader needs one per download (two with a piece layer).
 */
export const HOLDER_MAX_CONNECTIONS_PER_ADDRESS = 32;

/** A connection with no request for this long is closed. */
export const HOLDER_IDLE_TIMEOUT_MS = 60_000;

export interface FileServerOptions {
  /** One address to listen on; absent: every address, IPv6 and IPv4 (listenEverywhere). */
  host?: string;
  port: number;
  index: ShareIndex;
  logger: Logger;
  maxUploads?: number;
  /** Fetches kept waiting for a slot beyond `maxUploads`; one more gets BUSY. */
  maxQueue?: number;
  /** Uploads one sender gets at once (default HOLDER_MAX_UPLOADS_PER_ADDRESS); its further fetches wait. */
  maxUploadsPerAddress?: number;
  /** Places one sender holds in the line (default MAX_UPLOAD_QUEUE_PER_ADDRESS); one more gets BUSY. */
  maxQueuePerAddress?: number;
  /** Connections kept at once (default HOLDER_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Connections kept at once from one sender (default HOLDER_MAX_CONNECTIONS_PER_ADDRESS). */
  maxConnectionsPerAddress?: number;
  /** How long a new connection may take, from its arrival, to finish TLS and say hello (default HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
  /** Called when a shared file no longer matches its index entry (it must be re-hashed, not served). */
  onStale?: (file: IndexedFile) => void;
  /** How downloaders reach this holder: TLS with the peer's identity. */
  transport: Transport;
  /** The key of a private network: only downloaders that prove it are served. */
  networkKey?: Buffer;
  /** On a members network, only members with a good ticket are served (README#tickets); default: everyone. */
  admission?: HolderAdmission;
  /** Most bytes per second sent to all downloaders together (PEER_MAX_UPLOAD_RATE); unlimited when absent. */
  maxUploadRate?: number;
  /**
   * Takes the connections that open with `connect_back`: holders answering this peer's own downloads
   * (the node's ConnectBackService). Without it, such a connection is closed.
   */
  onConnectBack?: (socket: Socket, remote: RemotePeer, opening: ConnectBack) => void;
  /** Contents this peer is downloading, served piece by piece as they are verified (feature `partial`). */
  partials?: PartialContents;
}

type Connection = FramedConnection<HolderRequest, HolderReply>;

/**
 * What every file server of a peer takes from how the peer reaches its network: its transport and key,
 * its members' tickets, the connect-backs it takes at its port, and the peer's upload limits.
 */
export function peerServerOptions(peer: NetworkAccess & { maxUploads?: number | undefined; maxUploadRate?: number | undefined }): Pick<FileServerOptions, 'transport' | 'maxUploads' | 'maxUploadRate' | 'networkKey' | 'admission' | 'onConnectBack'> {
  return {
    transport: peer.transport,
    maxUploads: peer.maxUploads,
    maxUploadRate: peer.maxUploadRate,
    networkKey: peer.networkKey,
    ...(peer.tickets && { admission: peer.tickets }),
    onConnectBack: peer.connectBack?.take,
  };
}

/** What a holder allows, each sender and everyone together. */
interface HolderLimits extends UploadSlotLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  handshakeTimeoutMs: number;
}

/**
 * Serves shared content to other peers: a `fetch` names content by sha256 and a range; the answer is a
 * `file` header followed by the raw bytes, streamed from disk at the pace the socket accepts them (and
 * the upload rate allows). A `pieces` request gets the content's piece layer.
 * Only files in the index are ever opened, and only by the path the index recorded.
 */
export class FileServer {
  private readonly sockets = new Set<Socket>();
  /** Connections held per sender (address, or IPv6 /64). */
  private readonly bySender = new SenderCounts();
  /** Connections holders opened to this port for our own downloads (connect-back). */
  private readonly slots: UploadSlots;
  /** The pieces of each shared content downloaders asked for, told to those that share it as `fresh`. */
  private readonly given = new GivenPieces();
  private closing: Promise<void> | undefined;

  private listener: Listener | undefined;

  private constructor(
    private readonly index: ShareIndex,
    private readonly logger: Logger,
    private readonly limits: HolderLimits,
    private readonly onStale: (file: IndexedFile) => void,
    private readonly networkKey: Buffer | undefined,
    private readonly rate: UploadRate | undefined,
    private readonly transport: Transport,
    private readonly onConnectBack: FileServerOptions['onConnectBack'],
    private readonly admission: HolderAdmission,
    private readonly partials: PartialContents | undefined,
  ) {
    this.slots = new UploadSlots(limits);
  }

  static async start(options: FileServerOptions): Promise<FileServer> {
    const limits: HolderLimits = {
      maxUploads: options.maxUploads ?? DEFAULT_MAX_UPLOADS,
      maxQueue: options.maxQueue ?? MAX_UPLOAD_QUEUE,
      maxUploadsPerAddress: options.maxUploadsPerAddress ?? HOLDER_MAX_UPLOADS_PER_ADDRESS,
      maxQueuePerAddress: options.maxQueuePerAddress ?? MAX_UPLOAD_QUEUE_PER_ADDRESS,
      maxConnections: options.maxConnections ?? HOLDER_MAX_CONNECTIONS,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? HOLDER_MAX_CONNECTIONS_PER_ADDRESS,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    };
    const server = new FileServer(
      options.index,
      options.logger,
      limits,
      options.onStale ?? (() => undefined),
      options.networkKey,
      options.maxUploadRate ? new UploadRate(options.maxUploadRate) : undefined,
      options.transport,
      options.onConnectBack,
      options.admission ?? EVERYONE,
      options.partials,
    );
    const listen = {
      port: options.port,
      portHint: 'pass another --port, or 0 for a random one',
      hostHint: `check ${PEER_SETTINGS.host.env}`,
      onError: (error: Error) => options.logger.error({ err: error }, 'listener error'),
    };
    const accept = (socket: Socket, remote: RemotePeer) => server.accept(socket, remote);
    server.listener = options.host === undefined ? await listenEverywhere(options.transport, listen, accept) : await options.transport.listen({ ...listen, host: options.host }, accept);
    return server;
  }

  get address(): Address {
    if (!this.listener) throw new Error('file server is not listening');
    return this.listener.address;
  }

  get activeUploads(): number {
    return this.slots.uploads;
  }

  /** Connections this holder serves now (downloading, queued, idle or saying hello). */
  get connections(): number {
    return this.sockets.size;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const stopped = this.listener?.close();
      for (const socket of this.sockets) socket.destroy();
      await stopped;
    })();
    return this.closing;
  }

  /**
   * Answers a `connect_notice` the tracker relayed (README#connect-back): dials the downloader at the
   * address the tracker saw it at, accepting only the identity the tracker saw, opens with the token,
   * then serves the connection as one that came in, with the same limits, queue and checks.
   */
  async connectBack(notice: ConnectNotice): Promise<void> {
    const downloader = { host: notice.host, port: notice.port, ...(notice.requester && { id: notice.requester }) };
    const log = this.logger.child({ remote: formatAddress(downloader) });
    if (this.closing || this.refusalOf(senderOf(notice.host))) {
      log.info('connect-back not made: this holder is stopping, or at its connection limit (in all or for that sender)');
      return;
    }
    let socket: Socket;
    try {
      socket = await this.transport.dial(downloader, { timeoutMs: CONNECT_TIMEOUT_MS });
    } catch (error) {
      log.info({ err: error }, 'could not connect back to a downloader');
      return;
    }
    if (this.closing) return void socket.destroy();
    socket.write(encodeFrame({ type: 'connect_back', token: notice.token } satisfies ConnectBack));
    log.debug('connected back to a downloader');
    this.accept(socket, downloader);
  }

  /**
   * Takes a connection, within the limits in all and per sender; one beyond them is told
   * TOO_MANY_CONNECTIONS and closed at once, before it can hold anything (not even a wait for its hello).
   */
  private accept(socket: Socket, remote: RemotePeer): void {
    const sender = senderOf(remote.host);
    const refusal = this.refusalOf(sender);
    if (refusal) return refuseConnection(socket, refusal);
    this.sockets.add(socket);
    this.bySender.add(sender);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      this.sockets.delete(socket);
      this.bySender.remove(sender);
    };
    this.route(socket, remote, release)
      .catch((error) => this.logger.error({ err: error }, 'upload connection failed'))
      .finally(release);
  }

  private refusalOf(sender: string): P2PError | undefined {
    const { maxConnections, maxConnectionsPerAddress } = this.limits;
    if (this.sockets.size >= maxConnections) return new P2PError('TOO_MANY_CONNECTIONS', `this holder is at its limit of ${maxConnections} connections`);
    if (this.bySender.of(sender) >= maxConnectionsPerAddress) {
      return new P2PError('TOO_MANY_CONNECTIONS', `${sender} already has ${maxConnectionsPerAddress} connections open to this holder`, 'close some, or wait for downloads to finish');
    }
    return undefined;
  }

  /** A connection that opens with `connect_back` is a holder answering one of our downloads; any other is served. */
  private async route(socket: Socket, remote: RemotePeer, release: () => void): Promise<void> {
    // One deadline from the connection's arrival (TLS handshake included) for its first frame (spec: Handshake).
    const arrivedAt = remote.arrivedAt ?? Date.now();
    let first: { value: unknown; bytes: Buffer } | undefined;
    try {
      first = await readFirstFrame(socket, timeLeftSinceArrival({ arrivedAt }, this.limits.handshakeTimeoutMs), MAX_FRAME_BYTES);
    } catch {
      // Gone already: nobody to answer. Anything else, the conversation answers as it would have (its
      // bytes were put back).
      if (socket.destroyed || socket.readableEnded) return void socket.destroy();
    }
    const opening = ConnectBack.safeParse(first?.value);
    if (opening.success) {
      // Ours now (a download's), no longer a connection this holder serves.
      release();
      if (this.onConnectBack) this.onConnectBack(socket, remote, opening.data);
      else socket.destroy();
      return;
    }
    if (first) socket.unshift(first.bytes);
    await this.serve(socket, remote, timeLeftSinceArrival({ arrivedAt }, this.limits.handshakeTimeoutMs));
  }

  private async serve(socket: Socket, remote: RemotePeer, handshakeTimeoutMs: number): Promise<void> {
    const log = this.logger.child({ remote: `${remote.host}:${remote.port}` });
    const connection: Connection = new FramedConnection(socket, HolderRequest);
    try {
      const { features } = await serverHandshake(connection, {
        agent: AGENTS.holder,
        features: HOLDER_FEATURES,
        timeoutMs: handshakeTimeoutMs,
        ...(this.networkKey && { networkKey: this.networkKey }),
      });
      const queues = features.has('queue');
      /** Until when this connection's ticket lets it fetch (members networks); a fresher one may come at any time. */
      let ticketUntil: number | undefined;
      let ticketSignature: string | undefined;
      const requests = new HolderRequests(connection, ({ ticket }) => {
        // The same ticket again costs nothing: a signature is checked once per ticket a connection shows.
        if (ticket.signature === ticketSignature) return;
        const problem = this.admission.checker.problem(ticket, remote.id, Date.now());
        if (problem) throw new P2PError('ACCESS_DENIED', problem);
        ticketUntil = ticket.until;
        ticketSignature = ticket.signature;
      });
      const admitted = () => this.admitted(ticketUntil, features);
      while (!connection.isClosed) {
        const request = await requests.next(HOLDER_IDLE_TIMEOUT_MS);
        if (request.type === 'bye') break;
        if (request.type === 'hello') throw new P2PError('UNEXPECTED_MESSAGE', 'hello was already exchanged');
        const refusal = admitted();
        if (refusal) throw refusal;
        if (request.type === 'pieces') await this.sendPieces(connection, request);
        else if (request.type === 'held') {
          if (!features.has('partial')) throw new P2PError('UNEXPECTED_MESSAGE', 'held needs feature partial, which this connection did not agree to');
          await this.sendHeld(connection, request);
        } else await this.upload(connection, request, remote, queues, log, admitted);
      }
      await connection.end();
    } catch (error) {
      const end = await endServed(connection, error);
      if (end.kind === 'internal') log.error({ err: end.error }, 'unexpected error while uploading');
      else log.debug({ code: end.error.code }, end.error.message);
    } finally {
      connection.destroy();
    }
  }

  /**
   * Why this connection may not be served now, if it may not: on a members network only while a good
   * ticket is in force, checked before each request and between the chunks of an upload, so a revoked
   * member is served until its last ticket ends and not a chunk longer.
   */
  private admitted(ticketUntil: number | undefined, features: ReadonlySet<Feature>): P2PError | undefined {
    const network = this.admission.network();
    if (network === 'other') return undefined;
    if (network === 'unknown') return new P2PError('UNAVAILABLE', 'this holder has not reached its tracker yet: try again in a moment');
    if (ticketUntil === undefined) {
      return new P2PError('ACCESS_DENIED', features.has('members') ? "this holder serves the network's members only, and this client sent no ticket" : "this holder serves the network's members only: this client is too old to show a ticket");
    }
    if (ticketUntil <= Date.now()) return new P2PError('ACCESS_DENIED', 'the ticket has ended: the tracker no longer vouches for this member');
    return undefined;
  }

  /** Answers `held` (feature `partial`), with what this holder has of the content and, for a shared file, what is fresh. */
  private async sendHeld(connection: Connection, request: Held): Promise<void> {
    const file = this.index.find(request.sha256);
    const partial = file ? undefined : this.partials?.find(request.sha256);
    const content = file ? { shared: true as const, size: file.size, fresh: this.given.fresh(file.sha256, file.size) } : partial && { shared: false as const, partial };
    await answerHeld(connection, request, content);
  }

  /** Answers a `pieces` request from the index (or a download's layer): no slot is taken, the layer is small and in memory. */
  private async sendPieces(connection: Connection, request: Pieces): Promise<void> {
    const partial = this.index.find(request.sha256) ? undefined : this.partials?.find(request.sha256);
    if (partial) {
      const hashes = partial.layer.length === 1 ? partial.root : Buffer.concat(partial.layer as Buffer[]).toString('hex');
      return connection.send({ type: 'piece_layer', id: request.id, sha256: partial.sha256, root: partial.root, pieceSize: partial.geometry.pieceSize, hashes });
    }
    const file = this.index.find(request.sha256);
    if (!file) return connection.send({ type: 'error', id: request.id, code: 'NOT_FOUND', message: `no shared file has sha256 ${request.sha256}` });
    await connection.send({
      type: 'piece_layer',
      id: request.id,
      sha256: file.sha256,
      root: file.root,
      pieceSize: pieceSizeFor(file.size),
      hashes: file.layer ? file.layer.toString('hex') : file.root,
    });
  }

  /** Answers one fetch. Request-level refusals (NOT_FOUND, BAD_RANGE, BUSY) keep the connection open. */
  private async upload(connection: Connection, request: Fetch, remote: RemotePeer, queues: boolean, log: Logger, admitted: () => P2PError | undefined): Promise<void> {
    const refuse = (code: 'NOT_FOUND' | 'BAD_RANGE', message: string) =>
      connection.send({ type: 'error', id: request.id, code, message });
    const file = this.index.find(request.sha256);
    const partial = file ? undefined : this.partials?.find(request.sha256);
    if (!file && !partial) return refuse('NOT_FOUND', `no shared file has sha256 ${request.sha256}`);
    const size = file?.size ?? partial!.size;
    const name = file ? file.name : `${request.sha256.slice(0, 12)} (downloading)`;
    if (request.offset + request.length > size) {
      return refuse('BAD_RANGE', `bytes ${request.offset} to ${request.offset + request.length} are past the end (${size} bytes)`);
    }
    const missing = partial && missingPiece(partial, request.offset, request.length);
    if (missing !== undefined) return refuse('BAD_RANGE', `piece ${missing} is not verified here yet: ask which pieces are (held)`);
    if (file) this.given.asked(file.sha256, file.size, request.offset, request.length);
    const sender = senderOf(remote.host);
    const slot = await this.slots.take(sender, {
      queues,
      tell: (position) => connection.send({ type: 'queued', id: request.id, position }),
      gone: connection.whenClosed,
      isGone: () => connection.isClosed,
    });
    if ('busy' in slot) return connection.send({ type: 'error', id: request.id, code: 'BUSY', message: slot.busy });
    if ('gone' in slot) return;

    let handle;
    let headerSent = false;
    try {
      if (partial) {
        handle = await partial.reader();
        if (!handle) return await refuse('NOT_FOUND', `${name} is no longer being downloaded here`);
      } else {
        // O_NOFOLLOW: a shared file swapped for a symlink is never opened through it.
        handle = await open(file!.path, constants.O_RDONLY | constants.O_NOFOLLOW);
        const now = await handle.stat();
        // Serve only bytes that still match what was hashed: a file that changed (size, mtime, ctime or
        // inode), or whose path now leads outside the share, is re-hashed instead of sent under a stale hash.
        if (!now.isFile() || !sameIdentity(identityOf(now), file!) || !isInside(this.index.root, await realpath(file!.path))) {
          this.onStale(file!);
          return await refuse('NOT_FOUND', `${quoted(file!.name)} changed since it was indexed; it is being re-hashed`);
        }
      }
      const { length } = request;
      await connection.send({ type: 'file', id: request.id, sha256: request.sha256, size, offset: request.offset, length });
      headerSent = true;
      log.debug({ name, offset: request.offset, length }, 'upload started');
      let sent = 0;
      if (length > 0) {
        const buffers = new ReadBuffers();
        for await (const chunk of readRange(handle, request.offset, length, buffers)) {
          const refusal = admitted();
          if (refusal) throw refusal;
          sent += chunk.length;
          await this.rate?.take(chunk.length);
          // Read into again only once the socket is done with it (TLS has encrypted it, or it is sent).
          await connection.write(chunk, () => buffers.give(chunk));
          partial?.sent(remote.id ?? remote.host, chunk.length);
        }
      }
      if (sent !== length) {
        // The file shrank under us: the stream is now out of step, so the only honest thing is to hang up.
        throw new P2PError('IO_ERROR', `${quoted(name)} shrank while being sent (${sent} of ${length} bytes)`);
      }
      log.debug({ name, bytes: sent }, 'upload finished');
    } catch (error) {
      if (headerSent) {
        // Mid-body, no frame can be sent any more: hanging up is how the downloader learns it failed. A
        // downloader that hung up itself (it got those pieces elsewhere, or was done) is no news.
        const byDownloader = error instanceof P2PError && error.code === 'CONNECTION_CLOSED';
        if (byDownloader) log.debug({ name }, 'upload ended by the downloader');
        else log.warn({ name, err: error }, 'upload aborted');
        connection.destroy();
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (file && (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR')) {
        this.onStale(file);
        return refuse('NOT_FOUND', `${quoted(file.name)} is no longer shared`);
      }
      throw error;
    } finally {
      this.slots.release(sender);
      // A download's reader is its own, kept open for the next fetch.
      if (!partial) await handle?.close();
    }
  }
}
