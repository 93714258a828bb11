import { z } from 'zod';
import { P2PError } from '@p2pservice/protocol';

/*
 * Settings come from flags, then the environment, then `.env`, then built-in defaults. Each program
 * declares its settings once, in one table keyed by the name of the library option each one feeds; the
 * loader, `--help`, the flags and the checks of `.env.example` and the README all read that table.
 */

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

/** An empty value (`KEY=`) means "not set", as in most dotenv-driven tools. */
const unset = (value: unknown) => (value === '' ? undefined : value);

export const setting = {
  text: () => z.preprocess(unset, z.string().min(1)),
  /** A value that may be left unset (its default is empty). */
  optionalText: () => z.preprocess(unset, z.string().min(1).optional()),
  port: (min = 0) => z.preprocess(unset, z.coerce.number().int().min(min).max(65535)),
  /** A port, or nothing (a feature left off). */
  optionalPort: () => z.preprocess(unset, z.coerce.number().int().min(0).max(65535).optional()),
  positiveInt: () => z.preprocess(unset, z.coerce.number().int().min(1)),
  /** `on` or `off`, as a boolean. */
  onOff: () => z.preprocess(unset, z.enum(['on', 'off'], { error: 'must be on or off' }).transform((value) => value === 'on')),
  logLevel: () => z.preprocess(unset, LogLevel),
  /** json or pretty; unset: pretty on a terminal, JSON elsewhere. */
  logFormat: () => z.preprocess(unset, z.enum(['json', 'pretty']).optional()),
  /** A duration in seconds (fractions allowed), as a number of milliseconds. */
  seconds: () => z.preprocess(unset, z.coerce.number().positive().max(86_400).transform((s) => Math.round(s * 1000))),
  /**
   * Bytes per second: a number with an optional suffix, k/M/G in powers of 1000 and Ki/Mi/Gi in powers
   * of 1024 (`50M`, `1.5Gi`, `800k`), a trailing `B` or `B/s` allowed; 0 means no limit (undefined).
   */
  rate: () =>
    z.preprocess(
      unset,
      z
        .string()
        .regex(/^\d+(\.\d+)?\s*([kKMGT]i?)?(B(\/s)?)?$/, 'must be bytes per second, like 50M, 800k or 1.5Gi (0: no limit)')
        .transform((text) => {
          const [, number, , unit] = /^(\d+(?:\.\d+)?)\s*(([kKMGT])(i?))?/.exec(text)!;
          const binary = text.match(/^[\d.]+\s*[kKMGT]i/) !== null;
          const power = unit ? 'kMGT'.indexOf(unit === 'K' ? 'k' : unit) + 1 : 0;
          const bytes = Math.round(Number(number) * (binary ? 1024 : 1000) ** power);
          return bytes === 0 ? undefined : bytes;
        }),
    ),
};

/** One setting, declared once. */
export interface Setting<S extends z.ZodType = z.ZodType> {
  /** Its name in the environment and in `.env`. */
  env: string;
  /** Parses the text of the environment, `.env` or the flag into the value the library takes. */
  schema: S;
  /** The built-in default, as it is written in `.env` (`''`: unset); `.env.example` shows the same. */
  default: string;
  /** One line for `--help`. */
  help: string;
  /**
   * The argument of a command-line flag that overrides it, as --help shows it (`'<port>'`); the flag is the key in
   * kebab case (`httpPort`: `--http-port <port>`). Commands choose which of these flags they offer.
   */
  flag?: string;
}

export type SettingsTable = Readonly<Record<string, Setting>>;

/** The values a table's settings parse to, keyed as the table is. */
export type SettingsOf<T extends SettingsTable> = { [K in keyof T]: z.output<T[K]['schema']> };

/** Declares a table, keeping each entry's schema type (so the loaded values are typed). */
export const defineSettings = <T extends Record<string, Setting>>(table: T): T => table;

/** The flag a setting offers, in commander's terms: `--http-port <port>`. */
export function flagOf(key: string, entry: Setting): string {
  if (entry.flag === undefined) throw new Error(`setting ${entry.env} has no flag`);
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} ${entry.flag}`;
}

export interface SettingSources {
  env: Readonly<Record<string, string | undefined>>;
  dotenv: Readonly<Record<string, string>>;
  /** A command's parsed flags, by key (commander's option values); only the table's flags are read. */
  flags?: Readonly<Record<string, unknown>>;
  /** Where a bad flag's message points, e.g. "see `tracker start --help`". */
  flagHint?: string;
}

/**
 * Every setting of `table`, from the flag, else the environment, else `.env`, else the default. The
 * environment and `.env` are checked even where a flag wins, so a bad `.env` is found the first time.
 * Throws BAD_CONFIG naming the setting (or the flag) and pointing at `.env.example` (or `--help`).
 */
export function loadSettings<T extends SettingsTable>(table: T, sources: SettingSources): SettingsOf<T> {
  const values: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(table)) {
    const text = unset(sources.env[entry.env]) ?? unset(sources.dotenv[entry.env]) ?? entry.default;
    const parsed = entry.schema.safeParse(text);
    if (!parsed.success) {
      throw new P2PError('BAD_CONFIG', `invalid setting ${entry.env}: ${problemOf(parsed.error)}`, 'fix it in .env or the environment; see .env.example');
    }
    values[key] = parsed.data;
  }
  for (const [key, entry] of Object.entries(table)) {
    const flag = sources.flags?.[key];
    if (entry.flag === undefined || flag === undefined) continue;
    const parsed = entry.schema.safeParse(flag);
    if (!parsed.success) {
      throw new P2PError('BAD_CONFIG', `invalid flag ${flagOf(key, entry).split(' ')[0]}: ${problemOf(parsed.error)}`, sources.flagHint ?? 'see --help');
    }
    values[key] = parsed.data;
  }
  return values as SettingsOf<T>;
}

/** What is wrong with one value, in zod's words. */
const problemOf = (error: z.ZodError) => error.issues.map((issue) => issue.message).join('; ');

/** The values of `all` that belong to `part` (a table spread into the program's table). */
export function settingsOf<P extends SettingsTable>(part: P, all: Readonly<Record<string, unknown>>): SettingsOf<P> {
  return Object.fromEntries(Object.keys(part).map((key) => [key, all[key]])) as SettingsOf<P>;
}
