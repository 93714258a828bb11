import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** This package's version, read from its package.json (the one place it is written). */
export const PROTOCOL_PACKAGE_VERSION: string = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;
