import { connect as netConnect, type Socket } from 'node:net';
import { type Address, formatAddress } from './address.js';
import { CONNECT_TIMEOUT_MS } from './constants.js';
import { P2PError } from './errors.js';
import { formatMs } from './connection.js';

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

/** Opens a TCP connection, failing with CONNECT_FAILED (naming the address) on error or timeout. */
export function connectTo(address: Address, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Socket> {
  const where = formatAddress(address);
  return new Promise((resolve, reject) => {
    // Keep-alive lets the OS notice a peer that vanished without closing, even on an idle connection.
    const socket = netConnect({ host: address.host, port: address.port, keepAlive: true, keepAliveInitialDelay: 10_000 });
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
