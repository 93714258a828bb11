import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** This package's version, read from its package.json (the one place it is written). */
export const TRACKER_VERSION: string = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;

/** What the tracker calls itself in its welcome. */
export const TRACKER_AGENT = `p2pservice-tracker/${TRACKER_VERSION}`;
