import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SettingsTable } from '@p2pservice/cli';
import { PEER_SETTINGS } from '../packages/peer/src/settings/table.js';
import { TRACKER_SETTINGS } from '../packages/tracker/src/settings/table.js';
import { envExample, REPO } from '@p2pservice/test-support/processes';

/*
 * Each program declares its settings once, in its table. The example `.env` and the table of settings
 * in docs/configuration.md are written by hand for people to read; these tests keep them true to the tables. And no
 * source outside a table names a setting: it takes the value the table loaded, and a message names it
 * through the table's entry.
 */

const TABLES: [string, SettingsTable, string][] = [
  ['tracker', TRACKER_SETTINGS, 'packages/tracker/src/settings/table.ts'],
  ['peer', PEER_SETTINGS, 'packages/peer/src/settings/table.ts'],
];

/** The table of settings in docs/configuration.md: key → default as shown. */
function documentedSettings(): Map<string, string> {
  const docs = readFileSync(join(REPO, 'docs/configuration.md'), 'utf8');
  const section = docs.slice(0, docs.indexOf('## Exit codes'));
  return new Map([...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe.each(TABLES)("the %s's settings", (name, table, tableFile) => {
  const entries = Object.values(table);

  it('are all in .env.example, each with its built-in default', () => {
    const example = envExample();
    for (const { env, default: value } of entries) expect(example[env], env).toBe(value);
  });

  it('are all in the table of docs/configuration.md, each with its built-in default', () => {
    const documented = documentedSettings();
    for (const { env, default: value } of entries) expect(documented.get(env), env).toBe(value === '' ? '(empty)' : `\`${value}\``);
  });

  it('are named only in the table: no source reads one by its environment name or spells it in a message', () => {
    const names = new RegExp(`\\b(${entries.map((entry) => entry.env).join('|')})\\b`);
    // A name inside a string ('PEER_PORT', `set PEER_PORT`), or read as a property (env.PEER_PORT).
    const strings = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g;
    const named = (line: string) => [...line.matchAll(strings)].some(([text]) => names.test(text)) || new RegExp(`\\.${names.source}`).test(line);
    const readers = sources(join(REPO, 'packages', name, 'src'))
      .filter((file) => file !== join(REPO, tableFile))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => [line, i] as const)
          .filter(([line]) => !/^\s*(\*|\/\/|\/\*)/.test(line) && named(line))
          .map(([line, i]) => `${file.slice(REPO.length + 1)}:${i + 1}: ${line.trim()}`),
      );
    expect(readers).toEqual([]);
  });
});
