/**
 * Error codes, in two tables that never mix (packages/protocol/README.md#error-codes):
 * - wire codes may travel in an `error` frame, and are the only codes such a frame may carry;
 * - local codes name conditions of this side (its disk, its timers, its user). They are never sent, and a
 *   frame that carries one is refused as BAD_MESSAGE, so another program can never make us believe that
 *   our own disk failed or that our user pressed Ctrl-C.
 */

export const WIRE_ERROR_CODES = {
  FRAME_TOO_LARGE: 'a frame length prefix exceeds the frame limit',
  BAD_JSON: 'a frame body is not valid UTF-8 JSON',
  BAD_MESSAGE: 'a frame is valid JSON but not a valid message for this conversation',
  UNEXPECTED_MESSAGE: 'a valid message arrived in a state that does not allow it',
  VERSION_MISMATCH: 'the peers speak different protocol versions',
  HANDSHAKE_TIMEOUT: 'hello did not arrive in time',
  PEER_TIMEOUT: 'a connection was silent for longer than the peer timeout',
  TOO_MANY_FILES: 'a share exceeds the files-per-share limit',
  DUPLICATE_NAME: 'a share names the same file twice',
  TOO_MANY_CONNECTIONS: 'the server is at its connection limit',
  UNREACHABLE: 'the tracker cannot connect to the port a peer says it serves files on',
  NOT_FOUND: 'no such file or content, or no such holder online',
  BAD_RANGE: 'a fetch offset lies beyond the end of the file',
  BUSY: 'the holder has no free upload slot',
  ACCESS_DENIED: 'the network is private and the hello did not prove its key (or a peer without an identity tried to share)',
  BAD_QUERY: 'a search query has nothing to look for, is not well-formed Unicode, or has a filter that cannot be read',
  QUERY_TOO_LONG: 'a search query is longer than MAX_QUERY_CHARS',
  TOO_MANY_TERMS: 'a search query has more words, phrases or extensions than the limits allow',
  SEARCH_TIMEOUT: "a search took longer than the tracker's time budget for one query",
  UNAVAILABLE: 'the tracker cannot reach its database just now, or is rejoining the network: try again, or another tracker',
  NOT_CONNECTED: 'the holder of a connect request is not connected to this tracker (it left, or is on another tracker of the network), or is not firewalled',
  BOTH_FIREWALLED: 'a connect request for a firewalled holder came from a peer whose own listen port the tracker cannot reach either',
  RATE_LIMITED: 'too many connect requests from one connection, or one address, in a short time',
  QUOTA_EXCEEDED: "a member's quota (per identity, or per address for a client without one) is used up: searches or connect requests a minute, or bytes of names shared; the message names the setting",
  TOO_MANY_OFFERS: 'a connection, address or identity offers more contents it is downloading (feature partial) than the limits allow',
  TOO_MANY_WATCHES: 'a connection, address or identity watches more searches (feature watch) than the limits allow',
  BANNED: "the client's identity or address is banned from the network, until the time the message names or for good",
  INTERNAL: 'an unexpected failure inside the sender',
} as const;

export const LOCAL_ERROR_CODES = {
  AMBIGUOUS: 'several contents share a name; pick one by sha256',
  HOLDER_FAILED: 'a holder sent the wrong bytes, too few, too many, stopped, or answered with an error',
  CONNECT_FAILED: 'a connection could not be opened',
  IDENTITY_MISMATCH: 'the other side proved another identity than the one it had to (pinned): maybe an impostor',
  BAD_CERTIFICATE: 'the other side presented a certificate that is malformed, not self-signed, expired or not yet valid',
  LISTEN_FAILED: 'a server could not listen on its address and port',
  TIMEOUT: 'a request got no answer in time',
  CONNECTION_CLOSED: 'the other side closed the connection',
  TARGET_EXISTS: 'a different file already exists at the download target',
  IO_ERROR: 'a local file could not be read or written',
  INTERRUPTED: 'the user stopped the operation (Ctrl-C); it can be resumed',
  BAD_CONFIG: 'a setting, flag or argument is invalid',
  INSTANCE_IN_USE: 'another running tracker uses this instance name on the same database',
  NO_TRACKER: 'no tracker address was given, and none answered on the LAN (or looking there is off)',
  SEVERAL_TRACKERS: 'no tracker address was given, and several answered on the LAN: one has to be chosen',
} as const;

export type WireErrorCode = keyof typeof WIRE_ERROR_CODES;

/**
 * Wire codes that refuse one request and nothing more: the error frame carries the request's id and the
 * connection stays open (a sharing peer's mistyped search must not cost it its share). Any other error
 * ends the connection.
 */
export const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'BAD_QUERY',
  'QUERY_TOO_LONG',
  'TOO_MANY_TERMS',
  'SEARCH_TIMEOUT',
  'UNAVAILABLE',
  'NOT_CONNECTED',
  'BOTH_FIREWALLED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'TOO_MANY_OFFERS',
  'TOO_MANY_WATCHES',
  'NOT_FOUND',
] satisfies WireErrorCode[]);
export type LocalErrorCode = keyof typeof LOCAL_ERROR_CODES;
export type ErrorCode = WireErrorCode | LocalErrorCode;

export const ERROR_CODES: Record<ErrorCode, string> = { ...WIRE_ERROR_CODES, ...LOCAL_ERROR_CODES };
export const WIRE_ERROR_CODE_LIST = Object.keys(WIRE_ERROR_CODES) as [WireErrorCode, ...WireErrorCode[]];

export function isWireErrorCode(code: string): code is WireErrorCode {
  return Object.hasOwn(WIRE_ERROR_CODES, code);
}

/** An error with a code from the tables, an optional hint for humans, and an optional cause. */
export class P2PError extends Error {
  override readonly name: string = 'P2PError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What the other side said in an `error` frame. Its code is always a wire code, and it always describes
 * the sender (a holder that answers INTERNAL failed; nothing of ours did).
 */
export class RemoteError extends P2PError {
  override readonly name: string = 'RemoteError';
  constructor(
    override readonly code: WireErrorCode,
    /** What the sender said, escaped for a terminal. The message is `from: said`. */
    readonly said: string,
    /** Who sent it, as `host:port`. */
    readonly from: string,
  ) {
    super(code, `${from}: ${said}`);
  }
}

/** The code and text to put in an `error` frame for `error`: local conditions travel as INTERNAL. */
export function wireErrorOf(error: unknown): { code: WireErrorCode; message: string } {
  if (error instanceof P2PError && isWireErrorCode(error.code)) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: 'internal error' };
}
