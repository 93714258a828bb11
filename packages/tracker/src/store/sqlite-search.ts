import { foldText, type SearchQuery, type SearchTerm, wordInitials } from '@p2pservice/protocol';

/*
 * The search index of the SQLite store: an FTS5 table with the trigram tokenizer, one row per content
 * (distinct name and sha256), holding the folded name and marks for where its words begin. The index
 * only narrows: every candidate it returns is decided by SearchMatcher, which is what the query means.
 *
 * - A term of three or more characters is looked up by its trigrams (FTS5 does substring matching this
 *   way; the table keeps no positions, detail=none, which makes it a fifth smaller and faster to fill).
 * - A shorter term must begin a word: each word start is written as WORD_MARK twice and the word's first
 *   two characters, so "\x01u2" is a trigram found exactly where a word begins with "u2", and
 *   "\x01\x01u" where one begins with "u".
 * - END_MARK follows the name, so ".flac" + END_MARK finds names ending in .flac.
 * Names never hold control characters (names.ts), so the marks cannot be forged by a name.
 */

const WORD_MARK = '\x01';
const END_MARK = '\x02';

/** Most trigrams looked up for one term; SearchMatcher checks the whole term anyway. */
const MAX_TRIGRAMS_PER_TERM = 6;

/**
 * The index as schema version 4 made it. Rows of a contentless_delete table are found, to be deleted, by
 * looking through every segment: 100 000 deletions took 24 s, and a single one up to 3 s.
 */
export const SEARCH_INDEX_SCHEMA_V4 = `CREATE VIRTUAL TABLE search_index USING fts5(
  text, tokenize = 'trigram case_sensitive 1', content = '', contentless_delete = 1, detail = none
)`;

/**
 * The index since schema version 8: contentless, a row deleted by giving FTS5 its text again (the
 * 'delete' command: as cheap as an insert). indexTextOf of a name must therefore never change without a
 * migration that rebuilds the index.
 */
export const SEARCH_INDEX_SCHEMA = `CREATE VIRTUAL TABLE search_index USING fts5(
  text, tokenize = 'trigram case_sensitive 1', content = '', detail = none
)`;

/**
 * Contents held by at least this many peers are also in a second, smaller index (POPULAR_INDEX_SCHEMA).
 * In a network of 1 000 000 files, five contents in a hundred have three holders or more: a query of
 * middling breadth (`midnight`, the substring `ght`) finds its page among them, reading a tenth of the
 * candidates the whole index gives it, and is done once its page is full of names held that often (no
 * content outside can then make it). Changing it needs a migration that fills the index again.
 */
export const POPULAR_HOLDERS = 3;

/** The index of the contents held by POPULAR_HOLDERS peers or more (schema version 14): as SEARCH_INDEX_SCHEMA. */
export const POPULAR_INDEX_SCHEMA = `CREATE VIRTUAL TABLE popular_index USING fts5(
  text, tokenize = 'trigram case_sensitive 1', content = '', detail = none
)`;

/** The text indexed for `name`. */
export function indexTextOf(name: string): string {
  const folded = foldText(name);
  const starts = wordInitials(folded).map((initials) => WORD_MARK + WORD_MARK + initials);
  return `${folded}${END_MARK} ${starts.join(' ')}`;
}

/** The FTS5 MATCH expression that narrows to candidates for `query`, built only of quoted trigrams. */
export function matchExpressionOf(query: SearchQuery): string {
  const parts = query.include.map((term) => all(trigramsOf(term)));
  if (query.extensions.length > 0) {
    parts.push(`(${query.extensions.map((ext) => all(spread(trigrams(`.${ext}${END_MARK}`)))).join(' OR ')})`);
  }
  return parts.join(' AND ');
}

function trigramsOf(term: SearchTerm): string[] {
  const chars = [...term.text];
  if (!term.wordStart) return spread(trigrams(term.text));
  return [chars.length === 1 ? WORD_MARK + WORD_MARK + chars[0] : WORD_MARK + chars[0] + chars[1]];
}

function trigrams(text: string): string[] {
  const chars = [...text];
  const found = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) found.add(chars.slice(i, i + 3).join(''));
  return [...found];
}

/** At most MAX_TRIGRAMS_PER_TERM of `list`, spread over it (its first and last always among them). */
function spread(list: string[]): string[] {
  if (list.length <= MAX_TRIGRAMS_PER_TERM) return list;
  const step = (list.length - 1) / (MAX_TRIGRAMS_PER_TERM - 1);
  return Array.from({ length: MAX_TRIGRAMS_PER_TERM }, (_, i) => list[Math.round(i * step)]!);
}

// A quoted FTS5 string is only text: its one special character, the quote, is doubled.
const quoted = (trigram: string) => `"${trigram.replaceAll('"', '""')}"`;
const all = (list: string[]) => `(${list.map(quoted).join(' AND ')})`;
