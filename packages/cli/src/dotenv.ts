import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { P2PError } from '@p2pservice/protocol';

/** The KEY=value pairs of `.env` in `folder`; none if there is no such file (it is optional). */
export function readDotenv(folder: string): Record<string, string> {
  let text: Buffer;
  try {
    text = readFileSync(join(folder, '.env'));
  } catch {
    return {};
  }
  return parse(text);
}

/**
 * Secrets live only in files their owner alone can read: if one of `secrets` is taken from `.env` (not
 * overridden by the environment), a `.env` that others can read is refused, with the fix.
 */
export function requirePrivateDotenv(folder: string, dotenv: Record<string, string>, env: Record<string, string | undefined>, secrets: readonly string[]): void {
  const secret = secrets.find((key) => dotenv[key] && !env[key]);
  if (!secret) return;
  const file = join(folder, '.env');
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new P2PError('BAD_CONFIG', `${file} holds ${secret} and can be read by other users (mode ${mode.toString(8)})`, `make it private with: chmod 600 ${file}`);
  }
}
