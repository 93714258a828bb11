import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import {
  type Address,
  type Fetch,
  FramedConnection,
  HANDSHAKE_TIMEOUT_MS,
  type HolderReply,
  HolderRequest,
  MAX_UPLOAD_QUEUE,
  P2PError,
  QUEUE_NOTICE_MS,
  quoted,
  serverHandshake,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { readRange } from './file-io.js';
import { sameIdentity } from './hash-cache.js';
import { identityOf, type IndexedFile, isInside, type ShareIndex } from './share-index.js';

export const HOLDER_AGENT = 'p2pservice-peer/0.1.0';

/** Uploads served at once; a further fetch gets BUSY. */
export const DEFAULT_MAX_UPLOADS = 8;

/** Connections a holder keeps at once (downloading, queued or idle); one more gets TOO_MANY_CONNECTIONS. */
export const HOLDER_MAX_CONNECTIONS = 256;

/** A connection with no request for this long is closed. */
export const HOLDER_IDLE_TIMEOUT_MS = 60_000;

export interface FileServerOptions {
  host: string;
  port: number;
  index: ShareIndex;
  logger: Logger;
  maxUploads?: number;
  /** Fetches kept waiting for a slot beyond `maxUploads`; one more gets BUSY. */
  maxQueue?: number;
  /** Connections kept at once (default HOLDER_MAX_CONNECTIONS). */
  maxConnections?: number;
  /** Called when a shared file no longer matches its index entry (it must be re-hashed, not served). */
  onStale?: (file: IndexedFile) => void;
}

type Connection = FramedConnection<HolderRequest, HolderReply>;

/**
 * Serves shared content to other peers: a `fetch` names content by sha256 and an offset; the answer is
 * a `file` header followed by the raw bytes, streamed from disk at the pace the socket accepts them.
 * Only files in the index are ever opened, and only by the path the index recorded.
 */
export class FileServer {
  private readonly sockets = new Set<Socket>();
  private uploads = 0;
  /** Fetches waiting for an upload slot, first come first served. */
  private readonly queue: { wake: () => void }[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly index: ShareIndex,
    private readonly logger: Logger,
    private readonly maxUploads: number,
    private readonly maxQueue: number,
    private readonly maxConnections: number,
    private readonly onStale: (file: IndexedFile) => void,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      this.serve(socket)
        .catch((error) => this.logger.error({ err: error }, 'upload connection failed'))
        .finally(() => this.sockets.delete(socket));
    });
  }

  static async start(options: FileServerOptions): Promise<FileServer> {
    const server = createServer({ noDelay: true, keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const where = `${options.host}:${options.port}`;
        reject(
          error.code === 'EADDRINUSE'
            ? new P2PError('LISTEN_FAILED', `port ${where} is already in use`, 'pass another --port, or 0 for a random one')
            : new P2PError('LISTEN_FAILED', `cannot listen on ${where}: ${error.message}`, 'check PEER_HOST and --port'),
        );
      });
      server.listen(options.port, options.host, () => resolve());
    });
    return new FileServer(
      server,
      options.index,
      options.logger,
      options.maxUploads ?? DEFAULT_MAX_UPLOADS,
      options.maxQueue ?? MAX_UPLOAD_QUEUE,
      options.maxConnections ?? HOLDER_MAX_CONNECTIONS,
      options.onStale ?? (() => undefined),
    );
  }

  get address(): Address {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('file server is not listening');
    return { host: address.address, port: address.port };
  }

  get activeUploads(): number {
    return this.uploads;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private async serve(socket: Socket): Promise<void> {
    const log = this.logger.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const connection: Connection = new FramedConnection(socket, HolderRequest);
    try {
      if (this.sockets.size > this.maxConnections) {
        throw new P2PError('TOO_MANY_CONNECTIONS', `this holder is at its limit of ${this.maxConnections} connections`);
      }
      await serverHandshake(connection, HOLDER_AGENT, HANDSHAKE_TIMEOUT_MS);
      while (!connection.isClosed) {
        const request = await connection.receive(HOLDER_IDLE_TIMEOUT_MS);
        if (request.type === 'bye') break;
        if (request.type === 'hello') throw new P2PError('UNEXPECTED_MESSAGE', 'hello was already exchanged');
        await this.upload(connection, request, log);
      }
      await connection.end();
    } catch (error) {
      if (error instanceof P2PError && error.code !== 'CONNECTION_CLOSED') {
        log.debug({ code: error.code }, error.message);
        await connection.fail(error);
      } else if (!(error instanceof P2PError)) {
        log.error({ err: error }, 'unexpected error while uploading');
      }
    } finally {
      connection.destroy();
    }
  }

  /** Answers one fetch. Request-level refusals (NOT_FOUND, BAD_RANGE, BUSY) keep the connection open. */
  private async upload(connection: Connection, request: Fetch, log: Logger): Promise<void> {
    const refuse = (code: 'NOT_FOUND' | 'BAD_RANGE', message: string) =>
      connection.send({ type: 'error', id: request.id, code, message });
    const file = this.index.find(request.sha256);
    if (!file) return refuse('NOT_FOUND', `no shared file has sha256 ${request.sha256}`);
    if (request.offset > file.size) return refuse('BAD_RANGE', `offset ${request.offset} is past the end (${file.size} bytes)`);
    if (!(await this.takeSlot(connection, request.id))) return;

    let handle;
    let headerSent = false;
    try {
      // O_NOFOLLOW: a shared file swapped for a symlink is never opened through it.
      handle = await open(file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const now = await handle.stat();
      // Serve only bytes that still match what was hashed: a file that changed (size, mtime, ctime or
      // inode), or whose path now leads outside the share, is re-hashed instead of sent under a stale hash.
      if (!now.isFile() || !sameIdentity(identityOf(now), file) || !isInside(this.index.root, await realpath(file.path))) {
        this.onStale(file);
        return await refuse('NOT_FOUND', `${quoted(file.name)} changed since it was indexed; it is being re-hashed`);
      }
      const length = file.size - request.offset;
      await connection.send({ type: 'file', id: request.id, sha256: file.sha256, size: file.size, offset: request.offset, length });
      headerSent = true;
      log.debug({ name: file.name, offset: request.offset, length }, 'upload started');
      let sent = 0;
      if (length > 0) {
        for await (const chunk of readRange(handle, request.offset, length)) {
          sent += chunk.length;
          await connection.write(chunk);
        }
      }
      if (sent !== length) {
        // The file shrank under us: the stream is now out of step, so the only honest thing is to hang up.
        throw new P2PError('IO_ERROR', `${quoted(file.name)} shrank while being sent (${sent} of ${length} bytes)`);
      }
      log.debug({ name: file.name, bytes: sent }, 'upload finished');
    } catch (error) {
      if (headerSent) {
        // Mid-body, no frame can be sent any more: hanging up is how the downloader learns it failed.
        log.warn({ name: file.name, err: error }, 'upload aborted');
        connection.destroy();
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') {
        this.onStale(file);
        return refuse('NOT_FOUND', `${quoted(file.name)} is no longer shared`);
      }
      throw error;
    } finally {
      this.uploads--;
      for (const waiting of this.queue) waiting.wake();
      await handle?.close();
    }
  }

  /**
   * Takes an upload slot, waiting in line for one if all are busy (telling the downloader its position
   * whenever it changes, and every QUEUE_NOTICE_MS). False if the line is full (BUSY sent) or the
   * downloader gave up waiting.
   */
  private async takeSlot(connection: Connection, id: number): Promise<boolean> {
    if (this.uploads < this.maxUploads && this.queue.length === 0) {
      this.uploads++;
      return true;
    }
    if (this.queue.length >= this.maxQueue) {
      await connection.send({ type: 'error', id, code: 'BUSY', message: `all ${this.maxUploads} upload slots are in use and ${this.maxQueue} downloads are waiting; try again later` });
      return false;
    }
    const place = { wake: () => {} };
    this.queue.push(place);
    let told = 0;
    try {
      for (;;) {
        const position = this.queue.indexOf(place) + 1;
        if (position === 1 && this.uploads < this.maxUploads) {
          this.queue.shift();
          this.uploads++;
          return true;
        }
        if (position !== told) {
          await connection.send({ type: 'queued', id, position });
          told = position;
        }
        const timer = setTimeout(() => place.wake(), QUEUE_NOTICE_MS);
        await Promise.race([new Promise<void>((resolve) => (place.wake = resolve)), connection.whenClosed]);
        clearTimeout(timer);
        if (connection.isClosed) return false;
        if (this.queue.indexOf(place) + 1 === told) told = 0; // same place after a while: say it again
      }
    } finally {
      const at = this.queue.indexOf(place);
      if (at >= 0) {
        this.queue.splice(at, 1);
        for (const waiting of this.queue) waiting.wake();
      }
    }
  }
}
