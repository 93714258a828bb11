import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Level, type Logger, pino } from 'pino';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';
import { terminalSafe, terminalSafeLines } from '@p2pservice/protocol';

/** How log lines look on stderr: pino's JSON, or one readable line per event. */
export type LogFormat = 'json' | 'pretty';

/**
 * The format a CLI logs in: what LOG_FORMAT says, else readable lines on a terminal and JSON anywhere
 * else (a pipe, a file, journald), where tools read it.
 */
export function logFormat(setting: LogFormat | undefined, stderr: { isTTY?: boolean }): LogFormat {
  return setting ?? (stderr.isTTY === true ? 'pretty' : 'json');
}

/** Whether to colour stderr: a terminal, unless NO_COLOR is set (no-color.org) or TERM is dumb. */
export function colourOn(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/**
 * A program's logger on stderr (fd 2), written synchronously so the last lines before an exit are never
 * lost. Readable lines are made from the same JSON, with every string escaped first: log fields carry
 * names and messages from the network, which must not reach a terminal as control sequences.
 */
export function cliLogger(name: string, level: Level | 'silent', format: LogFormat, colour: boolean): Logger {
  if (format === 'json') return pino({ name, level }, pino.destination({ dest: 2, sync: true }));
  // Loaded only for a terminal: it costs every command's start-up 15 ms, and scripts log JSON.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as { prettyFactory: typeof PrettyFactory };
  const prettify = prettyFactory({ colorize: colour, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true });
  const stream = {
    write(line: string): void {
      writeSync(2, prettify(escapeStrings(JSON.parse(line) as unknown) as Record<string, unknown>));
    },
  };
  return pino({ name, level }, stream);
}

/** The same value with every string made terminal-safe (a stack keeps its line breaks). */
function escapeStrings(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return key === 'stack' ? terminalSafeLines(value) : terminalSafe(value);
  if (Array.isArray(value)) return value.map((item) => escapeStrings(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [terminalSafe(k), escapeStrings(v, k)]));
  }
  return value;
}
