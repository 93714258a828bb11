import { terminalSafe, terminalSafeLines } from './terminal.js';

/**
 * Every error that crosses a boundary (wire, CLI) carries one of these codes.
 * The table is the spec's error-code table (packages/protocol/README.md#error-codes).
 */
export const ERROR_CODES = {
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
  LISTEN_FAILED: 'a server could not listen on its address and port',
  UNREACHABLE: 'the tracker cannot connect to the port a peer says it serves files on',
  NOT_FOUND: 'no such file or content',
  AMBIGUOUS: 'several contents share a name; pick one by sha256',
  BAD_RANGE: 'a fetch offset lies beyond the end of the file',
  BUSY: 'the holder has no free upload slot',
  HOLDER_FAILED: 'a holder sent the wrong bytes, too few, too many, or stopped',
  CONNECT_FAILED: 'a TCP connection could not be opened',
  TIMEOUT: 'a request got no answer in time',
  CONNECTION_CLOSED: 'the other side closed the connection',
  TARGET_EXISTS: 'a different file already exists at the download target',
  IO_ERROR: 'a local file could not be read or written',
  INTERRUPTED: 'the user stopped the operation (Ctrl-C); it can be resumed',
  BAD_CONFIG: 'a setting, flag or argument is invalid',
  INTERNAL: 'an unexpected failure inside the sender',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** An error with a code from the table, an optional hint for humans, and an optional cause. */
export class P2PError extends Error {
  override readonly name = 'P2PError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The one line a CLI prints for an error: "program: what happened (hint)". */
export function errorLine(program: string, error: unknown): string {
  // Messages quote names and remote text escaped already; this is the last line of defence.
  if (error instanceof P2PError) return terminalSafeLines(`${program}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
  const message = error instanceof Error ? error.message : String(error);
  return terminalSafe(`${program}: unexpected error: ${message}`) + ' (run with LOG_LEVEL=debug for details)';
}

/** Exit status for a CLI: 2 for usage and configuration errors, 130 when interrupted, 1 otherwise. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof P2PError && error.code === 'BAD_CONFIG') return 2;
  if (error instanceof P2PError && error.code === 'INTERRUPTED') return 130;
  return 1;
}

/**
 * Reports a fatal error the way both CLIs promise: one line on stderr, and the stack only when the
 * user asked for it with LOG_LEVEL=debug (or trace). Returns the exit code to use.
 */
export function reportFatal(program: string, error: unknown, logLevel = process.env.LOG_LEVEL): number {
  process.stderr.write(`${errorLine(program, error)}\n`);
  if ((logLevel === 'debug' || logLevel === 'trace') && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  return exitCodeFor(error);
}
