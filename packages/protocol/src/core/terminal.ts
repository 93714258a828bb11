/**
 * Text that came from the network or from a file system (names, remote error messages) can carry
 * escape sequences, bidi overrides or line breaks. Everything shown to a person goes through these.
 */

const UNSAFE_FOR_TERMINAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const UNSAFE_EXCEPT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const escapeChar = (c: string) => `\\u{${c.codePointAt(0)!.toString(16)}}`;

/** Control, format (bidi, zero-width) and separator characters become visible `\u{..}` escapes. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, escapeChar);
}

/** As `terminalSafe`, but keeps line breaks: for messages we laid out on several lines ourselves. */
export function terminalSafeLines(text: string): string {
  return text.replace(UNSAFE_EXCEPT_NEWLINE, escapeChar);
}

/** A name in double quotes, safe to print. */
export function quoted(text: string): string {
  return `"${terminalSafe(text)}"`;
}
