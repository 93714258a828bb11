import type { Socket } from 'node:net';
import { wireErrorOf } from '../core/errors.js';
import { encodeFrame } from './frame.js';

/** How long a refused connection is given to read its error before it is destroyed. */
const REFUSAL_GRACE_MS = 1_000;

/**
 * Turns a connection away before any conversation: one `error` frame (id null) saying why, then the
 * close. It is not read from, and is destroyed after a moment whether or not the other side closes, so
 * a refused connection holds nothing for long (a flood of them costs their sender, not the server).
 */
export function refuseConnection(socket: Socket, error: unknown): void {
  const { code, message } = wireErrorOf(error);
  const hint = error instanceof Error && 'hint' in error && typeof error.hint === 'string' ? `; ${error.hint}` : '';
  socket.end(encodeFrame({ type: 'error', id: null, code, message: `${message}${hint}`.slice(0, 1000) }));
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
