import { BadLayerError, type ErrorCode, P2PError, RemoteError } from '@p2pservice/protocol';
import { BadPieceError } from './source.js';

/** A holder left out of this download, and why. */
export interface HolderFailure {
  holder: string;
  code: ErrorCode;
  reason: string;
  /** It sent a piece (or a piece layer, or a piece tree) that does not match the content. */
  lied: boolean;
}

/** The holders that failed a download, in order, each named once. */
export class HolderFailures {
  readonly list: HolderFailure[] = [];
  constructor(private readonly onFailed?: (failure: HolderFailure) => void) {}

  has(holder: string): boolean {
    return this.list.some((f) => f.holder === holder);
  }

  add(failure: HolderFailure): void {
    if (this.has(failure.holder)) return;
    this.list.push(failure);
    this.onFailed?.(failure);
  }
}

/**
 * Conditions of our own (our disk, our target, our user) that no other holder can change: they end the
 * download. Everything else that happens while talking to a holder — whatever it sends, error frames
 * with any code included — is that holder failing, and the others carry on.
 */
const OWN_FAILURES: ReadonlySet<ErrorCode> = new Set(['IO_ERROR', 'TARGET_EXISTS', 'INTERRUPTED', 'BAD_CONFIG']);

export function isOwnFailure(error: unknown): boolean {
  if (!(error instanceof P2PError)) return true; // a bug of ours, not something to blame a holder for
  return !(error instanceof RemoteError) && OWN_FAILURES.has(error.code);
}

export const failureOf = (holder: string, error: P2PError): HolderFailure => ({
  holder,
  code: error.code,
  reason: error instanceof RemoteError ? error.said : error.message,
  lied: error instanceof BadPieceError || error instanceof BadLayerError,
});
