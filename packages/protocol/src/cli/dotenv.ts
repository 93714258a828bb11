import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

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
