import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requirePrivateDotenv } from '../src/dotenv.js';

/* A .env that holds a secret must be its owner's alone; where a mode cannot tell (Windows), the program says so. */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'p2p-dotenv-'));
  writeFileSync(join(dir, '.env'), 'NETWORK_KEY=secret\n');
  chmodSync(join(dir, '.env'), 0o644);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a .env holding a secret', () => {
  it('is refused when others can read it, and passes once it is private', () => {
    expect(() => requirePrivateDotenv(dir, { NETWORK_KEY: 'secret' }, {}, ['NETWORK_KEY'], 'linux')).toThrow(/can be read by other users \(mode 644\)/);
    chmodSync(join(dir, '.env'), 0o600);
    expect(requirePrivateDotenv(dir, { NETWORK_KEY: 'secret' }, {}, ['NETWORK_KEY'], 'linux')).toBeUndefined();
  });

  it('is taken on Windows, with the line that says its readers could not be checked', () => {
    expect(requirePrivateDotenv(dir, { NETWORK_KEY: 'secret' }, {}, ['NETWORK_KEY'], 'win32')).toMatch(/^on Windows, file modes do not show who can read .*\.env: keep it in your own user folder/);
    // A secret given in the environment instead is not the file's to keep.
    expect(requirePrivateDotenv(dir, { NETWORK_KEY: 'secret' }, { NETWORK_KEY: 'other' }, ['NETWORK_KEY'], 'win32')).toBeUndefined();
  });
});
