import { foldText, type SearchQuery, wordStarts } from '@p2pservice/protocol';

/*
 * How the PostgreSQL store narrows a search: pg_trgm GIN indexes over two columns of `contents`.
 * - `folded`: the name folded as SearchMatcher folds it. A term of three or more characters is looked up
 *   with LIKE '%term%', which pg_trgm answers from the index; an extension with LIKE '%.ext'.
 * - `initials`: a space, then the first two characters of each word of the folded name, space-separated.
 *   A shorter term must begin a word, so it is looked up with LIKE '% u2%' in `initials`.
 * The index only narrows: SearchMatcher decides every candidate. Every piece of the query travels as a
 * bound parameter, its LIKE wildcards escaped: nothing typed is SQL or a pattern.
 */

export interface SearchColumns {
  folded: string;
  initials: string;
}

/** The search columns of a content named `name`. */
export function searchColumnsOf(name: string): SearchColumns {
  const folded = foldText(name);
  const initials = wordStarts(folded).map((at) => [...folded.slice(at, at + 4)].slice(0, 2).join(''));
  return { folded, initials: ` ${initials.join(' ')}` };
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
    if (term.wordStart) conditions.push(`initials LIKE ${parameter(`% ${likeEscaped(term.text)}%`)}`);
    else conditions.push(`folded LIKE ${parameter(`%${likeEscaped(term.text)}%`)}`);
  }
  if (query.extensions.length > 0) {
    conditions.push(`(${query.extensions.map((ext) => `folded LIKE ${parameter(`%.${likeEscaped(ext)}`)}`).join(' OR ')})`);
  }
  return {
    text: `SELECT name, sha256, size, holders FROM contents WHERE ${conditions.join(' AND ')} ORDER BY holders DESC, name, sha256`,
    values,
  };
}
