import { P2PError } from '@p2pservice/protocol';
import { terminalSafe, terminalSafeLines } from '@p2pservice/protocol';

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
 * Reports a fatal error the way both CLIs promise: one line on `stderr`, and the stack only when the
 * user asked for it with LOG_LEVEL=debug (or trace). Returns the exit code to use.
 */
export function reportFatal(program: string, error: unknown, logLevel: string | undefined, stderr: NodeJS.WritableStream = process.stderr): number {
  stderr.write(`${errorLine(program, error)}\n`);
  if ((logLevel === 'debug' || logLevel === 'trace') && error instanceof Error && error.stack) {
    stderr.write(`${error.stack}\n`);
  }
  return exitCodeFor(error);
}
