import { P2PError } from '../core/errors.js';

/** Where the identity a connection had to present came from. */
export type PinSource = 'address' | 'remembered' | 'tracker';

const SAID: Record<PinSource, (where: string, expected: string) => string> = {
  address: (where, expected) => `tracker ${where} presented identity %s, not the ${expected} of its address`,
  remembered: (where, expected) => `tracker ${where} presented identity %s, not the ${expected} it presented before`,
  tracker: (where, expected) => `holder ${where} presented identity %s, not the ${expected} the tracker listed`,
};

/**
 * The other side proved an identity other than the one it had to (the transport's pin): another program
 * on that address, an old address, or an impostor.
 */
export class IdentityMismatchError extends P2PError {
  override readonly name: string = 'IdentityMismatchError';
  constructor(
    /** `host:port` of the other side. */
    readonly where: string,
    readonly expected: string,
    readonly presented: string,
    readonly source?: PinSource,
    hint?: string,
  ) {
    const said = source ? SAID[source](where, expected).replace('%s', presented) : `${where} presented identity ${presented}, not the expected ${expected}`;
    super('IDENTITY_MISMATCH', `${said}: this may be an impostor`, hint);
  }

  /** The same mismatch, told of a pin that came from `source`. */
  from(source: PinSource, hint?: string): IdentityMismatchError {
    return new IdentityMismatchError(this.where, this.expected, this.presented, source, hint);
  }
}
