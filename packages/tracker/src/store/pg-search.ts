import { foldText, type SearchQuery, wordInitials } from '@p2pservice/protocol';

/*
 * How the PostgreSQL store narrows a search: a pg_trgm GIN index over `contents.search_text`, which is
 * the first two characters of each word of the folded name (each after a space), a line break, then the
 * folded name (folded as SearchMatcher folds it). One column, one index: each new content costs one
 * index update, not two.
 * - A term of three or more characters is looked up with LIKE '%term%', which pg_trgm answers from the
 *   index; an extension with LIKE '%.ext' (the folded name ends the text).
 * - A shorter term must begin a word, so it is looked up with LIKE '% u2%': a word's initials follow a
 *   space.
 * Either may also match elsewhere in the text; the index only narrows, and SearchMatcher decides every
 * candidate. Every piece of the query travels as a bound parameter, its LIKE wildcards escaped: nothing
 * typed is SQL or a pattern.
 */

/** The text indexed for search of a content named `name`. */
export function searchTextOf(name: string): string {
  const folded = foldText(name);
  return ` ${wordInitials(folded).join(' ')}\n${folded}`;
}

export interface SearchStatement {
  text: string;
  values: (string | number)[];
}

/** LIKE's wildcards and its escape character, escaped (the default escape character is the backslash). */
const likeEscaped = (text: string) => text.replaceAll(/[\\%_]/g, (char) => `\\${char}`);

/**
 * The candidates for `query`: matching contents in the size bounds, most holders first, then by name and
 * sha256 (byte order), so that the caller may stop at the first one that cannot make the page.
 */
export function searchStatementOf(query: SearchQuery): SearchStatement {
  const values: (string | number)[] = [query.minSize ?? 0, query.maxSize ?? Number.MAX_SAFE_INTEGER];
  const parameter = (value: string) => `$${values.push(value)}`;
  const conditions = ['size BETWEEN $1 AND $2'];
  for (const term of query.include) {
    const pattern = term.wordStart ? `% ${likeEscaped(term.text)}%` : `%${likeEscaped(term.text)}%`;
    conditions.push(`search_text LIKE ${parameter(pattern)}`);
  }
  if (query.extensions.length > 0) {
    conditions.push(`(${query.extensions.map((ext) => `search_text LIKE ${parameter(`%.${likeEscaped(ext)}`)}`).join(' OR ')})`);
  }
  return {
    text: `SELECT name, sha256, size, holders, firewalled FROM contents WHERE ${conditions.join(' AND ')} ORDER BY holders DESC, name, sha256`,
    values,
  };
}
