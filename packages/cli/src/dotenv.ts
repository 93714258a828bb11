import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { ownerOnlyProblem, P2PError, uncheckedSecretLine } from '@p2pservice/protocol';

/** The KEY=value pairs of `.env` in `folder`; none if there is no such file (it is optional). */
export function readDotenv(folder: string): Record<string, string> {
  return readEnvFile(join(folder, '.env'));
}

/** The KEY=value pairs of a file in `.env` form; none if there is no such file. */
export function readEnvFile(file: string): Record<string, string> {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch {
    return {};
  }
  return parse(text);
}

/**
 * Secrets live only in files their owner alone can read: if one of `secrets` is taken from `.env` (not
 * overridden by the environment), a `.env` that others can read is refused, with the fix. Where modes
 * say nothing (Windows), returns the line to say instead.
 */
export function requirePrivateDotenv(
  folder: string,
  dotenv: Record<string, string>,
  env: Record<string, string | undefined>,
  secrets: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  return requirePrivateEnvFile(join(folder, '.env'), dotenv, env, secrets, platform);
}

/** requirePrivateDotenv for any file in `.env` form (the settings `peer join` keeps). */
export function requirePrivateEnvFile(
  file: string,
  values: Record<string, string>,
  env: Record<string, string | undefined>,
  secrets: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const secret = secrets.find((key) => values[key] && !env[key]);
  if (!secret) return undefined;
  const mode = statSync(file).mode & 0o777;
  const problem = ownerOnlyProblem(mode, platform);
  if (problem === 'others') {
    throw new P2PError('BAD_CONFIG', `${file} holds ${secret} and can be read by other users (mode ${mode.toString(8)})`, `make it private with: chmod 600 ${file}`);
  }
  // Windows: accepted, and the caller says that nobody could check who reads it.
  return problem === 'unknown' ? uncheckedSecretLine(file) : undefined;
}
