import { formatMs } from '../core/duration.js';
import { isWireErrorCode, P2PError } from '../core/errors.js';
import type { FramedConnection } from './connection.js';

/*
 * The two ends a server's loop over one connection shares, the tracker's and a holder's alike: the wait
 * for the next request, and what the other side is told when the conversation ends on an error.
 */

/** How a served connection ended on an error: for the server's log and metrics. */
export type ServedEnd =
  /** The other side is gone, or was dropped for not reading (the write deadline): nobody to tell. */
  | { kind: 'gone'; error: P2PError }
  /** The other side broke a rule: it was told the wire code, and closed. */
  | { kind: 'refused'; error: P2PError & { code: string } }
  /** Ours, not the other side's (a bug, a database): it was told INTERNAL, the log gets the details. */
  | { kind: 'internal'; error: unknown };

/** Ends `connection` after `error`, telling the other side what it may know (an `error` frame, then the close). */
export async function endServed(connection: FramedConnection<unknown, unknown>, error: unknown): Promise<ServedEnd> {
  if (error instanceof P2PError && (error.code === 'CONNECTION_CLOSED' || error.code === 'TIMEOUT')) return { kind: 'gone', error };
  await connection.fail(error);
  return error instanceof P2PError && isWireErrorCode(error.code) ? { kind: 'refused', error } : { kind: 'internal', error };
}

/**
 * The next request on `connection`, or PEER_TIMEOUT once the other side has said nothing for `idleMs`
 * (a frozen or cut-off peer, an idle downloader); `then` says what follows, for the message.
 */
export async function nextRequest<In>(connection: FramedConnection<In, unknown>, idleMs: number, then: string): Promise<In> {
  try {
    return await connection.receive(idleMs);
  } catch (error) {
    if (error instanceof P2PError && error.code === 'TIMEOUT') throw new P2PError('PEER_TIMEOUT', `no message for ${formatMs(idleMs)}; ${then}`);
    throw error;
  }
}
