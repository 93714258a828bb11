import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type FileEntry, identityOfFingerprint, parseSearchQuery, type SearchCursor } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/index.js';
import { runSearch, type SearchPaths, SHIPPED_PATHS } from '../src/store/sqlite-search-run.js';
import { POPULAR_HOLDERS } from '../src/store/sqlite-search.js';
import { tempDir } from './helpers.js';

/*
 * A SQLite search first reads the most held contents in ranking order and stops once the page is decided;
 * then asks the index of the popular contents; only a rare query (or a deep page) goes on to the whole
 * FTS5 index. Whichever way a page is made, it must be the same page: here every query is answered by the
 * whole index alone, and by every other way (the ordered read cut short after a few rows or not, the
 * popular index asked or not), and the pages compared, the second pages too.
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
  const peers: number[] = [];
  for (let peer = 1; peer <= 34; peer++) {
    const files = contents.filter((_, i) => popularity[i]! * 30 >= (peer - 1) % 30 || i % 30 === (peer - 1) % 30);
    peers.push(await store.putShare(undefined, { host: `10.0.1.${peer}`, port: 4000, id: identityOfFingerprint(Buffer.alloc(32, peer)) }, files));
  }
  // Four leave again, and one changes half its share: contents cross the popular index's bound both ways.
  for (const peer of peers.slice(-4)) await store.removePeer(peer);
  const changing = contents.filter((_, i) => i % 2 === 0);
  await store.putShare(peers[0], { host: '10.0.1.1', port: 4000, id: identityOfFingerprint(Buffer.alloc(32, 1)) }, changing);
  await store.close();
  db = new Database(file, { readonly: true });
});

afterAll(() => {
  db?.close();
  dir?.remove();
});

const page = (text: string, after: SearchCursor | null, limit: number, paths = SHIPPED_PATHS) => {
  const outcome = runSearch(db, parseSearchQuery(text), after, limit, Date.now() + 60_000, paths);
  if (!('entries' in outcome)) throw new Error(`${text} timed out`);
  return outcome.entries;
};

/** The whole index alone, and every other way a page can be made. */
const INDEX_ONLY: SearchPaths = { orderedRows: 0, popular: false };
const OTHER_PATHS: SearchPaths[] = [SHIPPED_PATHS, { orderedRows: 7, popular: false }, { orderedRows: 7, popular: true }, { orderedRows: 0, popular: true }];

describe('a SQLite search', () => {
  for (const text of ['the', 'love', 'ght', 'golden highway', 'smörgåsbord', 'über', 'x', '.flac', 'mother', 'nothing-like-it']) {
    it(`gives the same pages of ${JSON.stringify(text)} from the ordered read, the popular index, the whole index, and all`, () => {
      for (const limit of [5, 40]) {
        const byIndex = page(text, null, limit, INDEX_ONLY);
        for (const paths of OTHER_PATHS) expect(page(text, null, limit, paths)).toEqual(byIndex);
        const last = byIndex.at(-1);
        if (!last) continue;
        const after: SearchCursor = { rank: last.rank, holders: last.holders, name: last.name, sha256: last.sha256 };
        const secondByIndex = page(text, after, limit, INDEX_ONLY);
        for (const paths of OTHER_PATHS) expect(page(text, after, limit, paths)).toEqual(secondByIndex);
      }
    });
  }

  it('keeps exactly the contents held by POPULAR_HOLDERS peers or more in the popular index', () => {
    const indexed = db.prepare<[], { rowid: number }>('SELECT rowid FROM popular_index ORDER BY rowid').all();
    const popular = db.prepare<[number], { id: number }>('SELECT id FROM contents WHERE holders >= ? ORDER BY id').all(POPULAR_HOLDERS);
    expect(indexed.map((row) => row.rowid)).toEqual(popular.map((row) => row.id));
    // Some contents are below the bound, some above, and some came down across it.
    const below = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM contents WHERE holders < ?').get(POPULAR_HOLDERS)!.n;
    expect(popular.length).toBeGreaterThan(20);
    expect(below).toBeGreaterThan(20);
  });

  it('has pages the popular index decides and pages it cannot (the test would not show a difference otherwise)', () => {
    const candidates = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM popular_index WHERE popular_index MATCH ?');
    const all = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM search_index WHERE search_index MATCH ?');
    expect(candidates.get('"lov" AND "ove"')!.n).toBeLessThan(all.get('"lov" AND "ove"')!.n);
    // A page whose last result is in a name held that often: nothing outside the popular index can beat it.
    const decided = page('love', null, 5, INDEX_ONLY).at(-1)!;
    expect(decided.rank).toBe(0);
    expect(decided.holders).toBeGreaterThanOrEqual(POPULAR_HOLDERS);
    // A page with results held by fewer: the whole index must be asked.
    expect(page('smörgåsbord', null, 40, INDEX_ONLY).some((entry) => entry.holders < POPULAR_HOLDERS)).toBe(true);
  });

  it('finds broad pages with several holders and ties among them (the test would not show a difference otherwise)', () => {
    const broad = page('the', null, 40, INDEX_ONLY);
    expect(broad).toHaveLength(40);
    expect(new Set(broad.map((entry) => entry.holders)).size).toBeGreaterThan(3);
    expect(broad.some((entry, i) => i > 0 && broad[i - 1]!.holders === entry.holders)).toBe(true);
  });
});
