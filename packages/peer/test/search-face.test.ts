import { mkdtempSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearchQuery, SearchMatcher } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { highlighter, wantsColour } from '../src/face/colour.js';
import { displayWidth } from '../src/face/format.js';
import { listTable, searchTable } from '../src/face/report.js';
import { isRowNumber, ShownResults } from '../src/face/shown-results.js';

const row = (name: string, size = 1) => ({ name, size, sha256: 'ab'.repeat(32), holders: 1 });

describe('search results on a terminal', () => {
  it('colours what matched, escaping each piece of the name on its own', () => {
    const paint = highlighter(new SearchMatcher(parseSearchQuery('cafe ingr')), true);
    expect(paint('Café/05 Ingrata.mp3')).toBe('\x1b[1;33mCafé\x1b[0m/05 \x1b[1;33mIngr\x1b[0mata.mp3');
    // A name cannot bring its own escape sequence: it is shown escaped, and our colour still ends.
    expect(paint('cafe\x1b[31m.mp3')).toBe('\x1b[1;33mcafe\x1b[0m\\u{1b}[31m.mp3');
    expect(highlighter(new SearchMatcher(parseSearchQuery('cafe')), false)('Café')).toBe('Café');
  });

  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('lines up coloured rows, and says when there may be more', () => {
    expect(displayWidth('\x1b[1;33mCafé\x1b[0m')).toBe(4);
    const paint = highlighter(new SearchMatcher(parseSearchQuery('a')), true);
    const table = searchTable('a', [row('a.txt'), row('b/a long name.txt')], 2, paint, 'add words');
    const lines = table.split('\n').map((line) => line.replaceAll(/\x1b\[[0-9;]*m/g, ''));
    expect(lines[1]!.indexOf('1 B')).toBe(lines[2]!.indexOf('1 B'));
    expect(lines[3]).toBe('2 results for "a" (the best 2; add words)');
  });
});

describe('the list as a table', () => {
  it('prints 200 000 rows (a spread of that many column widths overflowed the call stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => row(`file ${i}.txt`));
    const table = listTable(rows);
    expect(table.split('\n').at(-2)).toBe('200000 files, 195 KiB');
    expect(table.split('\n')[200_000]).toMatch(/^200000  file 199999\.txt/);
  });
});

describe('numbered results', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'p2p-shown-'));
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('are kept per folder, readable by their owner only, and picked by number with their sha256', async () => {
    const here = new ShownResults(state, '/music');
    await here.remember('search for "a"', [row('a.txt', 5)]);
    expect(await here.pick(1)).toEqual({ name: 'a.txt', size: 5, sha256: 'ab'.repeat(32), number: 1, source: 'search for "a"' });
    await expect(new ShownResults(state, '/elsewhere').pick(1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const [file] = readdirSync(join(state, 'shown'));
    expect(statSync(join(state, 'shown', file!)).mode & 0o777).toBe(0o600);
  });

  it('say what the last table held when the number is not in it', async () => {
    const here = new ShownResults(state, '/music');
    await here.remember('search for "x"', []);
    await expect(here.pick(1)).rejects.toThrow('there is no result 1: the last search for "x" here found nothing');
    await here.remember('list', [row('a.txt'), row('b.txt')]);
    await expect(here.pick(3)).rejects.toThrow('there is no result 3: the last list here showed 2 rows');
  });

  it('refuse a damaged file instead of picking from it', async () => {
    const here = new ShownResults(state, '/music');
    await here.remember('list', [row('a.txt')]);
    const [file] = readdirSync(join(state, 'shown'));
    writeFileSync(join(state, 'shown', file!), '{"rows":[{"name":"../../etc/passwd"');
    await expect(here.pick(1)).rejects.toThrow(/are damaged/);
  });

  it('are asked for by plain numbers only, 0 included (refused as no row, not taken as a file name)', async () => {
    expect(['1', '42', '0', '-1', '1.5', '3a', ' 3', '01'].map(isRowNumber)).toEqual([true, true, true, false, false, false, false, true]);
    await expect(new ShownResults(state).pick(0)).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'there is no result 0: results are numbered from 1' });
  });
});
