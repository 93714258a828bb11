import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { type Address, type Endpoint, formatAddress, normalizeRemoteAddress } from './address.js';
import { CONNECT_TIMEOUT_MS } from '../core/constants.js';
import { formatMs } from '../core/duration.js';
import { P2PError } from '../core/errors.js';
import type { DialOptions, Listener, ListenOptions, RemotePeer, Transport } from './transport.js';

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

// Keep-alive lets the OS notice a peer that vanished without closing, even on an idle connection.
const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelay: 10_000 } as const;

/** Opens a TCP connection, failing with CONNECT_FAILED (naming the address) on error or timeout. */
export function connectTo(address: Address, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Socket> {
  const where = formatAddress(address);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address.host, port: address.port, ...KEEP_ALIVE });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new P2PError('CONNECT_FAILED', `cannot connect to ${where}: no answer within ${formatMs(timeoutMs)}`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason = (error.code && REASONS[error.code]) ?? error.message;
      reject(new P2PError('CONNECT_FAILED', `cannot connect to ${where}: ${reason}`, undefined, { cause: error }));
    });
  });
}

/** What a TCP socket says about its other end. */
export function remotePeerOf(socket: Socket): RemotePeer {
  return { host: normalizeRemoteAddress(socket.remoteAddress ?? 'unknown'), port: socket.remotePort ?? 0 };
}

/**
 * A connection's remote address and port, as a key: the TLS socket that reports a finished handshake
 * wraps the raw socket that arrived (the same ends, not the same object).
 */
export const connectionKey = (socket: Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;

/** A listen failure in words, with the caller's hints. */
function listenErrorOf(error: NodeJS.ErrnoException, options: ListenOptions): P2PError {
  const where = formatAddress(options);
  switch (error.code) {
    case 'EADDRINUSE':
      return new P2PError('LISTEN_FAILED', `port ${where} is already in use`, options.portHint ?? 'stop the other program or pass --port', { cause: error });
    case 'EACCES':
      return new P2PError('LISTEN_FAILED', `not allowed to listen on ${where}`, 'use a port above 1023', { cause: error });
    case 'EADDRNOTAVAIL':
      return new P2PError('LISTEN_FAILED', `address ${options.host} is not on this machine`, options.hostHint ?? 'listen on 0.0.0.0 or one of its addresses', { cause: error });
    default:
      return new P2PError('LISTEN_FAILED', `cannot listen on ${where}: ${error.message}`, options.hostHint, { cause: error });
  }
}

/** Starts `server` listening as `options` say (LISTEN_FAILED with hints if it cannot); the Listener stops it. */
export async function startListening(server: Server, options: ListenOptions): Promise<Listener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenErrorOf(error, options)));
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  // After a successful listen, errors (e.g. EMFILE on accept) are reported, never thrown.
  server.on('error', (error) => options.onError?.(error));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new P2PError('LISTEN_FAILED', `cannot listen on ${formatAddress(options)}`);
  return {
    address: { host: bound.address, port: bound.port },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Plain TCP, with no encryption and no identities: what the programs never use, kept to measure what TLS
 * costs and for tests of the layers above the transport. It refuses an endpoint that names an identity,
 * since it cannot check one.
 */
export const tcpTransport: Transport = {
  canListen: true,

  async dial(to: Endpoint, options: DialOptions = {}): Promise<Socket> {
    if (to.id) throw new P2PError('CONNECT_FAILED', `cannot connect to ${formatAddress(to)}: plain TCP cannot check its identity ${to.id}`, 'use the TLS transport');
    return connectTo(to, options.timeoutMs);
  },

  async listen(options: ListenOptions, onConnection: (socket: Socket, remote: RemotePeer) => void): Promise<Listener> {
    const server = createServer({ noDelay: true, ...KEEP_ALIVE });
    server.on('connection', (socket) => onConnection(socket, remotePeerOf(socket)));
    return startListening(server, options);
  },
};
