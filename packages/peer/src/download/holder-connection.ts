import { type ContentHolder, HolderSession, IdentityMismatchError, P2PError, RemoteError } from '@p2pservice/protocol';
import { AGENTS } from '../network/agents.js';
import { connectBack } from '../network/connect-request.js';
import { clientOptions, type NetworkAccess } from '../network/tracker-access.js';

/*
 * How a download reaches a holder: a connection kept from an earlier download (the node's HolderPool)
 * or a new one, and a question asked again on another connection when a kept one turns out let go.
 */

/**
 * Connects to a holder. It must prove the identity the tracker listed it with: another program on that
 * port is that holder failing, like any other.
 */
async function dialHolder(holder: ContentHolder, access: NetworkAccess, stallMs: number): Promise<HolderSession> {
  const options = { ...clientOptions(access, AGENTS.download), requestTimeoutMs: stallMs };
  // A firewalled holder cannot be dialled: it dials us, once a tracker passes our request on.
  if (holder.firewalled) return connectBack(holder, access, options, stallMs);
  return HolderSession.open(holder, options).catch((error: unknown) => {
    throw error instanceof IdentityMismatchError ? error.from('tracker') : error;
  });
}

/** A connection to `holder`: one the node kept from an earlier download (`kept`), or a new one. */
export async function connectHolder(holder: ContentHolder, access: NetworkAccess, stallMs: number): Promise<{ session: HolderSession; kept: boolean }> {
  const pooled = access.holderPool?.take(holder);
  if (pooled) return { session: pooled, kept: true };
  return { session: await dialHolder(holder, access, stallMs), kept: false };
}

/**
 * Whether a kept connection's first question failed because the holder let the connection go while it
 * sat in the pool (it closed it, or said why it was closing it): on another connection it would work.
 */
function letGoWhileKept(error: unknown): boolean {
  if (error instanceof RemoteError) return error.code === 'PEER_TIMEOUT';
  return error instanceof P2PError && error.code === 'CONNECTION_CLOSED';
}

/**
 * Asks `ask` on the connection `next` gives. A kept connection the holder let go fails its first
 * question without an answer: `letGo` is told, and the question goes to the next connection (another
 * kept one, or a new one), as if the pool had never held it. Any other failure is the holder's.
 */
export async function askUntilAnswered<T>(
  next: () => Promise<{ session: HolderSession; kept: boolean }>,
  ask: (session: HolderSession) => Promise<T>,
  letGo: (session: HolderSession) => void,
): Promise<{ session: HolderSession; answer: T }> {
  for (;;) {
    const { session, kept } = await next();
    try {
      return { session, answer: await ask(session) };
    } catch (error) {
      if (!kept || !letGoWhileKept(error)) throw error;
      letGo(session);
    }
  }
}

/**
 * Asks `ask` on a connection to `holder` (kept or new, as askUntilAnswered says); the connection is
 * the caller's once answered, and closed if the question failed.
 */
export function askHolder<T>(holder: ContentHolder, access: NetworkAccess, stallMs: number, ask: (session: HolderSession) => Promise<T>): Promise<{ session: HolderSession; answer: T }> {
  const closing = (session: HolderSession) =>
    ask(session).catch((error: unknown) => {
      session.close().catch(() => undefined);
      throw error;
    });
  return askUntilAnswered(() => connectHolder(holder, access, stallMs), closing, () => undefined);
}
