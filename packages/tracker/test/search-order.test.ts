import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type FileEntry, identityOfFingerprint, parseSearchQuery, type SearchCursor } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/index.js';
import { runSearch } from '../src/store/sqlite-search-run.js';
import { tempDir } from './helpers.js';

/*
 * A SQLite search first reads the most held contents in ranking order and stops once the page is decided;
 * only a rare query (or a deep page) goes on to the FTS5 index. Whichever way a page is made, it must be
 * the same page: here every query is answered with the ordered read switched off (index only), cut short
 * after a few rows (then the index), and as shipped, and the pages compared, the second pages too.
 */

const WORDS = ['the', 'love', 'night', 'river', 'blue', 'golden', 'highway', 'theme', 'other', 'ghost', 'smörgåsbord', 'kraków', 'Über', 'mother', 'x'];

let dir: ReturnType<typeof tempDir>;
let db: Database.Database;

/** A seeded generator, so that a failure can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

beforeAll(async () => {
  dir = tempDir();
  const file = join(dir.path, 'tracker.db');
  const store = await SqliteStore.open(file);
  const next = random(26);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  // 600 contents held by 1 to 30 of 30 peers: many ties of holders, names sharing words at every rank.
  const contents: FileEntry[] = Array.from({ length: 600 }, (_, i) => {
    const words = Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(WORDS)).join(' ');
    const folder = next() < 0.5 ? `${pick(WORDS)} album/` : '';
    return { name: `${folder}${words} ${i}.flac`, size: 1_000 + i, sha256: createHash('sha256').update(String(i)).digest('hex'), root: 'e'.repeat(64) };
  });
  const popularity = contents.map(() => next() ** 3);
  for (let peer = 1; peer <= 30; peer++) {
    const files = contents.filter((_, i) => popularity[i]! * 30 >= peer - 1 || i % 30 === peer - 1);
    await store.putShare(undefined, { host: `10.0.1.${peer}`, port: 4000, id: identityOfFingerprint(Buffer.alloc(32, peer)) }, files);
  }
  await store.close();
  db = new Database(file, { readonly: true });
});

afterAll(() => {
  db?.close();
  dir?.remove();
});

const page = (text: string, after: SearchCursor | null, limit: number, orderedRows?: number) => {
  const outcome = runSearch(db, parseSearchQuery(text), after, limit, Date.now() + 60_000, orderedRows);
  if (!('entries' in outcome)) throw new Error(`${text} timed out`);
  return outcome.entries;
};

describe('a SQLite search', () => {
  for (const text of ['the', 'love', 'ght', 'golden highway', 'smörgåsbord', 'über', 'x', '.flac', 'mother', 'nothing-like-it']) {
    it(`gives the same pages of ${JSON.stringify(text)} from the ordered read, the index, and both`, () => {
      for (const limit of [5, 40]) {
        const byIndex = page(text, null, limit, 0);
        expect(page(text, null, limit)).toEqual(byIndex);
        expect(page(text, null, limit, 7)).toEqual(byIndex);
        const last = byIndex.at(-1);
        if (!last) continue;
        const after: SearchCursor = { rank: last.rank, holders: last.holders, name: last.name, sha256: last.sha256 };
        const secondByIndex = page(text, after, limit, 0);
        expect(page(text, after, limit)).toEqual(secondByIndex);
        expect(page(text, after, limit, 7)).toEqual(secondByIndex);
      }
    });
  }

  it('finds broad pages with several holders and ties among them (the test would not show a difference otherwise)', () => {
    const broad = page('the', null, 40, 0);
    expect(broad).toHaveLength(40);
    expect(new Set(broad.map((entry) => entry.holders)).size).toBeGreaterThan(3);
    expect(broad.some((entry, i) => i > 0 && broad[i - 1]!.holders === entry.holders)).toBe(true);
  });
});
