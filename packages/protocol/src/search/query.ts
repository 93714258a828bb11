import { MAX_EXTENSION_CHARS, MAX_QUERY_CHARS, MAX_QUERY_TERMS, MAX_SEARCH_EXTENSIONS } from '../core/constants.js';
import { P2PError } from '../core/errors.js';
import { foldText, isWordStart } from './fold.js';
import { parseSize, SIZE_HINT } from './size.js';

/**
 * The search query language (packages/protocol/README.md#search): words are ANDed; `"a phrase"` matches
 * in order; `-word` and `-"a phrase"` exclude; `ext:flac,mp3` keeps those extensions; `size>10M`,
 * `size<2G` (and `>=`, `<=`) bound the size. Everything else is text to look for: no character a person
 * types is an operator of any database.
 */

/** A word or phrase to look for, folded (see fold.ts). */
export interface SearchTerm {
  text: string;
  /**
   * Shorter than SUBSTRING_MIN_CHARS: it matches only where a word begins ("u2" finds "U2 - One" but not
   * "Fu2"). Longer terms match anywhere in a name ("beat" finds "Beatles").
   */
  wordStart: boolean;
}

export interface SearchQuery {
  include: SearchTerm[];
  exclude: SearchTerm[];
  /** Folded, without the dot; a file matches when its name ends in any of them. Empty: any. */
  extensions: string[];
  /** Inclusive bounds in bytes. */
  minSize?: number;
  maxSize?: number;
}

/** Filters given apart from the query text (the wire's `minSize`, `maxSize`, `extensions`; CLI flags). */
export interface SearchFilters {
  minSize?: number;
  maxSize?: number;
  extensions?: readonly string[];
}

/** A term this long (in characters) or longer matches inside words; a shorter one only at a word start. */
export const SUBSTRING_MIN_CHARS = 3;

const SPACE = /[\s\p{Cc}\p{Cf}\p{Z}]/u;
const SIZE_FILTER = /^size(>=|<=|>|<)(.+)$/i;
const EXTENSION = /^[^./\s]+$/u;

const badQuery = (message: string, hint?: string) => new P2PError('BAD_QUERY', message, hint);

/** Parses `text` (and filters given apart) into a query, or throws BAD_QUERY, QUERY_TOO_LONG or TOO_MANY_TERMS. */
export function parseSearchQuery(text: string, filters: SearchFilters = {}): SearchQuery {
  if (text.length > MAX_QUERY_CHARS) {
    throw new P2PError('QUERY_TOO_LONG', `the search query is ${text.length} characters long, more than ${MAX_QUERY_CHARS}`, 'search for fewer, more telling words');
  }
  if (!text.isWellFormed()) throw badQuery('the search query is not well-formed Unicode (it holds a lone surrogate)', 'type the query again');
  const query: SearchQuery = { include: [], exclude: [], extensions: [] };
  for (const ext of filters.extensions ?? []) addExtension(query, ext);
  if (filters.minSize !== undefined) query.minSize = filters.minSize;
  if (filters.maxSize !== undefined) query.maxSize = filters.maxSize;

  for (const token of tokens(text)) {
    if (!token.quoted && !token.negated && addFilter(query, token.text)) continue;
    const term = termOf(token.text);
    if (!term) continue;
    const list = token.negated ? query.exclude : query.include;
    if (!list.some((t) => t.text === term.text && t.wordStart === term.wordStart)) list.push(term);
  }

  if (query.include.length + query.exclude.length > MAX_QUERY_TERMS) {
    throw new P2PError('TOO_MANY_TERMS', `the search query has ${query.include.length + query.exclude.length} words and phrases, more than ${MAX_QUERY_TERMS}`, 'search for fewer, more telling words');
  }
  if (query.include.length === 0 && query.extensions.length === 0) {
    throw badQuery('the search query has nothing to look for', 'type a word of letters or digits; -word only excludes, size only filters');
  }
  if (query.minSize !== undefined && query.maxSize !== undefined && query.minSize > query.maxSize) {
    throw badQuery(`no size is at least ${query.minSize} and at most ${query.maxSize} bytes`, 'check the size bounds');
  }
  return query;
}

interface Token {
  text: string;
  negated: boolean;
  quoted: boolean;
}

/** Splits at spaces; `"..."` is one token (an unclosed quote runs to the end); a leading `-` negates. */
function* tokens(text: string): Generator<Token> {
  let at = 0;
  const chars = [...text];
  while (at < chars.length) {
    if (SPACE.test(chars[at]!)) {
      at++;
      continue;
    }
    let negated = false;
    if (chars[at] === '-' && at + 1 < chars.length && !SPACE.test(chars[at + 1]!)) {
      negated = true;
      at++;
    }
    if (chars[at] === '"') {
      const close = chars.indexOf('"', at + 1);
      const end = close === -1 ? chars.length : close;
      yield { text: chars.slice(at + 1, end).join(''), negated, quoted: true };
      at = end + 1;
      continue;
    }
    const start = at;
    while (at < chars.length && !SPACE.test(chars[at]!)) at++;
    yield { text: chars.slice(start, at).join(''), negated, quoted: false };
  }
}

/** A folded term for `text`, or undefined for one with nothing to look for (a lone "&" or "-"). */
function termOf(text: string): SearchTerm | undefined {
  let folded = foldText(text).split(SPACE).filter(Boolean).join(' ');
  if ([...folded].length >= SUBSTRING_MIN_CHARS) return { text: folded, wordStart: false };
  // A short term is a word's beginning: what comes before its first letter or digit cannot begin one.
  while (folded.length > 0 && !isWordStart(folded, 0)) folded = folded.slice(1);
  return folded.length > 0 ? { text: folded, wordStart: true } : undefined;
}

/** Applies `ext:` or `size<>`; false when `text` is not a filter but a word. */
function addFilter(query: SearchQuery, text: string): boolean {
  if (/^ext:/i.test(text)) {
    const list = text.slice(4).split(',').filter(Boolean);
    if (list.length === 0) throw badQuery(`${text} names no extension`, 'write ext:flac, or ext:flac,mp3 for either');
    for (const ext of list) addExtension(query, ext);
    return true;
  }
  const size = SIZE_FILTER.exec(text);
  if (!size) return false;
  const bytes = parseSize(size[2]!);
  if (bytes === undefined) throw badQuery(`${text}: "${size[2]}" is not a size`, SIZE_HINT);
  const operator = size[1]!;
  if (operator.startsWith('>')) query.minSize = Math.max(query.minSize ?? 0, operator === '>' ? bytes + 1 : bytes);
  else query.maxSize = Math.min(query.maxSize ?? Number.MAX_SAFE_INTEGER, operator === '<' ? bytes - 1 : bytes);
  return true;
}

function addExtension(query: SearchQuery, ext: string): void {
  const folded = foldText(ext.startsWith('.') ? ext.slice(1) : ext);
  if (!EXTENSION.test(folded) || [...folded].length > MAX_EXTENSION_CHARS) {
    throw badQuery(`"${ext}" is not an extension`, `write one without dots or spaces, at most ${MAX_EXTENSION_CHARS} characters: ext:flac`);
  }
  if (query.extensions.includes(folded)) return;
  if (query.extensions.length === MAX_SEARCH_EXTENSIONS) {
    throw new P2PError('TOO_MANY_TERMS', `a search may ask for at most ${MAX_SEARCH_EXTENSIONS} extensions`, 'ask for fewer extensions');
  }
  query.extensions.push(folded);
}
