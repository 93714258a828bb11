import { pipeline } from 'node:stream/promises';
import { formatAddress, formatMs, type HolderRecord, HolderSession, IdentityMismatchError, P2PError, STALL_TIMEOUT_MS } from '@p2pservice/protocol';
import { AGENTS } from '../agents.js';
import { clientOptions, type NetworkAccess } from '../tracker-access.js';
import type { PartFile } from './part-file.js';

export interface FetchOptions {
  access: NetworkAccess;
  /** A holder that sends nothing for this long is abandoned (default STALL_TIMEOUT_MS). */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  /** The part's length after each write (at most every 100 ms, and at the end). */
  onBytes?: (received: number) => void;
  /** The place in the holder's queue, while waiting for an upload slot. */
  onQueued?: (position: number) => void;
}

/**
 * Streams the rest of the content from one holder into the part, from the part's current length. Ends
 * normally only when the holder sent every byte it announced; a stall, a drop, an error frame or too
 * many bytes throw. Whatever the holder does, the part keeps only bytes that were written in order.
 */
export async function fetchFrom(part: PartFile, holder: HolderRecord, options: FetchOptions): Promise<void> {
  const stallMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
  // The holder must prove the identity the tracker listed it with: another program on that port is
  // that holder failing, like any other.
  const session = await HolderSession.open(holder, { ...clientOptions(options.access, AGENTS.download), requestTimeoutMs: stallMs }).catch((error: unknown) => {
    throw error instanceof IdentityMismatchError ? error.from('tracker') : error;
  });
  let ok = false;
  try {
    const { header, body } = await session.fetch(part.content.sha256, part.offset, options.onQueued);
    if (header.size !== part.content.size) {
      body.destroy();
      throw new P2PError('HOLDER_FAILED', `announced ${header.size} bytes, the tracker listed ${part.content.size}`);
    }
    // Stall detection without a timer per chunk (a 1 GiB transfer has 16 000 of them): the part's offset
    // is sampled a few times per stall period, and a period without progress ends the transfer.
    let lastOffset = part.offset;
    let lastProgress = Date.now();
    const watchdog = setInterval(() => {
      if (part.offset !== lastOffset) {
        lastOffset = part.offset;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress >= stallMs) {
        body.destroy(new P2PError('HOLDER_FAILED', `stalled: no data for ${formatMs(stallMs)}`));
      }
    }, Math.max(10, Math.floor(stallMs / 4)));
    const onAbort = () => body.destroy(new P2PError('INTERRUPTED', 'interrupted'));
    options.signal?.addEventListener('abort', onAbort);
    let lastReport = 0;
    const report = (received: number) => {
      const now = Date.now();
      if (now - lastReport < 100 && received !== part.content.size) return;
      lastReport = now;
      options.onBytes?.(received);
    };
    try {
      await pipeline(body, part.writer(report));
    } catch (error) {
      if (error instanceof P2PError) throw error;
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    } finally {
      clearInterval(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      await part.idle();
    }
    ok = true;
  } finally {
    if (ok) await session.close().catch(() => undefined);
    else session.connection.destroy();
  }
}

/** How a holder is named in messages. */
export const holderLabel = (holder: HolderRecord): string => formatAddress(holder);
