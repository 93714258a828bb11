import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { REPO } from './processes.js';

/** Debian's Chromium (`.ci/run` installs it); CHROMIUM_PATH points at another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the tests, kept as artifacts (not committed). */
export const ARTIFACTS = join(REPO, 'test-artifacts');

/** A headless Chromium; fails with the fix when none is installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  // As root (CI) Chromium's sandbox cannot start; the pages it opens here are our own, on loopback.
  return chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}
