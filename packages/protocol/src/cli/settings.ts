import { z } from 'zod';
import { describeSchemaError } from '../core/schema-error.js';
import { P2PError } from '../core/errors.js';

/*
 * Settings come from the environment, then `.env`, then built-in defaults. Both CLIs (and any tool built
 * on this package) validate them the same way here, so a bad value is one clear line, never a crash.
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

/**
 * Validates the keys of `defaults` taken from `env`, else `dotenv`, else the default.
 * Throws BAD_CONFIG naming the key and pointing at `.env.example`.
 */
export function loadSettings<S extends z.ZodObject>(
  schema: S,
  defaults: Record<keyof z.infer<S> & string, string>,
  env: Record<string, string | undefined>,
  dotenv: Record<string, string>,
): z.infer<S> {
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    merged[key] = unset(env[key]) ?? unset(dotenv[key]) ?? defaults[key as keyof typeof defaults];
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new P2PError('BAD_CONFIG', `invalid setting ${describeSchemaError(result.error)}`, 'fix it in .env or the environment; see .env.example');
  }
  return result.data;
}
