import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldText, MAX_QUERY_CHARS, MAX_QUERY_TERMS, P2PError, parseSearchQuery, parseSize, SearchMatcher } from '../src/index.js';

const ranks = (query: string, names: string[], size = 1) => {
  const matcher = new SearchMatcher(parseSearchQuery(query));
  return names.map((name) => matcher.rank(name, size) ?? null);
};
const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof P2PError ? error.code : `not a P2PError: ${String(error)}`;
  }
  return 'no error';
};

describe('folding', () => {
  it('ignores case, width and accents, and spells out letters that are not base letter plus mark', () => {
    expect(foldText('Café')).toBe('cafe');
    expect(foldText('ＢＥＡＴＬＥＳ')).toBe('beatles');
    expect(foldText('Straße Øresund Łódź ﬁn')).toBe('strasse oresund lodz fin');
    expect(foldText('İstanbul ÉCOLE')).toBe('istanbul ecole');
  });
});

describe('the search query language', () => {
  it('ANDs words, each found inside names whatever their case, width and accents', () => {
    expect(ranks('cafe', ['Music/Café Tacvba/Ingrata.mp3', 'cafeteria.txt', 'caf.txt'])).toEqual([1, 0, null]);
    expect(ranks('BEAT', ['The Beatles/Help.mp3', 'ＢＥＡＴ.ogg', 'bea t.mp3'])).toEqual([1, 0, null]);
    expect(ranks('beat help', ['The Beatles/Help.mp3', 'The Beatles/Yesterday.mp3'])).toEqual([1, null]);
  });

  it('matches a word shorter than three characters only where a word begins', () => {
    expect(ranks('u2', ['U2/One.mp3', 'Fu2.mp3', 'mix (u2 edit).mp3', 'Ｕ２.mp3'])).toEqual([1, null, 0, 0]);
    expect(ranks('a', ['a.txt', 'bad.txt', 'x-a-ha.txt'])).toEqual([0, null, 0]);
  });

  it('matches a quoted phrase in order, and excludes -words and -"phrases"', () => {
    expect(ranks('"abbey road"', ['Abbey Road/x.mp3', 'Road Abbey/x.mp3', 'abbey  road.mp3'])).toEqual([1, null, null]);
    expect(ranks('beatles -live', ['Beatles/Help.mp3', 'Beatles/Help (Live).mp3'])).toEqual([1, null]);
    expect(ranks('beatles -"take 2"', ['Beatles/Help take 2.mp3', 'Beatles/Help take 3.mp3'])).toEqual([null, 1]);
  });

  it('filters by extension and size', () => {
    const matcher = new SearchMatcher(parseSearchQuery('song ext:flac,.OGG size>10M size<=2G'));
    expect(matcher.rank('song.flac', 11 * 2 ** 20)).toBe(0);
    expect(matcher.rank('song.ogg', 2 * 2 ** 30)).toBe(0);
    expect(matcher.rank('song.flac', 10 * 2 ** 20)).toBeUndefined();
    expect(matcher.rank('song.flac', 2 * 2 ** 30 + 1)).toBeUndefined();
    expect(matcher.rank('song.mp3', 11 * 2 ** 20)).toBeUndefined();
    expect(matcher.rank('song.flac/readme', 11 * 2 ** 20)).toBeUndefined();
    expect(parseSearchQuery('ext:flac')).toEqual({ include: [], exclude: [], extensions: ['flac'] });
  });

  it('ranks names with every word in the file name before those that need their folders', () => {
    expect(ranks('beatles help', ['Beatles/Help.mp3', 'Beatles - Help.mp3', 'Help/Beatles.mp3'])).toEqual([1, 0, 1]);
  });

  it('reads sizes with binary units, as sizes are shown', () => {
    expect([parseSize('700'), parseSize('10M'), parseSize('1.5 GiB'), parseSize('2gb'), parseSize('3k')]).toEqual([700, 10 * 2 ** 20, 1.5 * 2 ** 30, 2 * 2 ** 30, 3072]);
    expect([parseSize('ten'), parseSize('-1'), parseSize('5Q'), parseSize('1e9')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('takes operators of search engines and databases as text to look for', () => {
    expect(parseSearchQuery('NEAR(a b) OR * {name}:x \'; DROP TABLE files; --').include.map((t) => t.text)).toEqual([
      'near(a', 'b)', 'or', '{name}:x', 'drop', 'table', 'files;',
    ]);
    // Under three characters with no letter or digit ("*", "';", "--"): nothing to look for, left out.
    expect(ranks('"x" AND y*', ['x and y*.txt', 'x.txt'])).toEqual([0, null]);
  });

  it('refuses hostile or empty queries with one named error', () => {
    expect(codeOf(() => parseSearchQuery('a'.repeat(10_000)))).toBe('QUERY_TOO_LONG');
    expect(codeOf(() => parseSearchQuery('a'.repeat(MAX_QUERY_CHARS)))).toBe('no error');
    expect(codeOf(() => parseSearchQuery('beat \ud800les'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('?! & -- "'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('-live'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('size>10M'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('song size>10Q'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('song size>2G size<1G'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('song ext:'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery('song ext:a/b'))).toBe('BAD_QUERY');
    expect(codeOf(() => parseSearchQuery(Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ')))).toBe('TOO_MANY_TERMS');
  });

  it('parses anything at all into a query or one named query error', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.constantFrom('"', '-', '*', '(', ')', ':', '^', 'NEAR', 'AND', 'OR', 'NOT', '{', '}', 'ext:', 'size>', 'size<', '10M', 'a', 'é', ' ', '\u0000', '\ud800', "'", ';'), { maxLength: 60 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (query) => {
        const code = codeOf(() => parseSearchQuery(query));
        expect(['no error', 'BAD_QUERY', 'QUERY_TOO_LONG', 'TOO_MANY_TERMS']).toContain(code);
      }),
      { numRuns: 2_000 },
    );
  });

  it('highlights what matched, in the characters of the original name', () => {
    const matcher = new SearchMatcher(parseSearchQuery('cafe ingr'));
    const name = 'Music/Café Tacvba/05 Ingrata.mp3';
    expect(matcher.highlights(name).map(([start, end]) => name.slice(start, end))).toEqual(['Café', 'Ingr']);
    const wide = 'ＢＥＡＴＬＥＳ & ß';
    expect(new SearchMatcher(parseSearchQuery('eatl ss')).highlights(wide).map(([s, e]) => wide.slice(s, e))).toEqual(['ＥＡＴＬ', 'ß']);
  });
});
