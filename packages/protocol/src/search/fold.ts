/*
 * Search matches names case-, width- and accent-insensitively: both the names and the query are folded
 * the same way, one code point at a time, so that a position in the folded text can always be traced
 * back to the character of the name it came from (for highlighting).
 */

// Letters that are not a base letter plus marks, so that decomposition alone would keep them.
const LETTER_FOLDS: Record<string, string> = {
  ß: 'ss', ẞ: 'ss', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe', ø: 'o', Ø: 'o', đ: 'd', Đ: 'd', ð: 'd', Ð: 'd',
  ł: 'l', Ł: 'l', þ: 'th', Þ: 'th', ı: 'i', ħ: 'h', Ħ: 'h',
};
const MARKS = /\p{M}/gu;
const ASCII = /^[\x00-\x7f]*$/;
const folds = new Map<string, string>();

/** One code point folded: lower case, compatibility forms (full width, ligatures) decomposed, marks gone. */
export function foldCodePoint(char: string): string {
  let folded = folds.get(char);
  if (folded === undefined) {
    folded = LETTER_FOLDS[char] ?? char.toLowerCase().normalize('NFKD').replace(MARKS, '');
    folds.set(char, folded);
  }
  return folded;
}

/** `text` folded for matching: "Café ＢＥＡＴＬＥＳ" becomes "cafe beatles". */
export function foldText(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let folded = '';
  for (const char of text) folded += foldCodePoint(char);
  return folded;
}

/**
 * `text` folded, with where each folded character came from: `origins[i]` is the index in `text` of the
 * character that produced `folded[i]`, and `origins[folded.length]` is `text.length`.
 */
export function foldWithOrigins(text: string): { folded: string; origins: number[] } {
  let folded = '';
  const origins: number[] = [];
  let at = 0;
  for (const char of text) {
    const part = foldCodePoint(char);
    folded += part;
    for (let i = 0; i < part.length; i++) origins.push(at);
    at += char.length;
  }
  origins.push(text.length);
  return { folded, origins };
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
// Scripts written without spaces between words: every character may begin one.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** Whether a word begins at `index` of folded `text`: a letter or digit after one that is not. */
export function isWordStart(text: string, index: number): boolean {
  const char = text[index]!;
  if (!WORD_CHAR.test(char)) return false;
  return index === 0 || !WORD_CHAR.test(text[index - 1]!) || UNSPACED.test(char);
}

/** The indexes of folded `text` where words begin. */
export function wordStarts(text: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) if (isWordStart(text, i)) starts.push(i);
  return starts;
}

/**
 * The first two characters (code points) of each word of folded `text`: what a search index keeps so
 * that a 1- or 2-character word, which must begin a word, can be looked up.
 */
export function wordInitials(text: string): string[] {
  return wordStarts(text).map((at) => [...text.slice(at, at + 4)].slice(0, 2).join(''));
}
