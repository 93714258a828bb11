import { type SearchMatcher, terminalSafe } from '@p2pservice/protocol';

/** Whether to colour what goes to `stream` (the rule the logs follow too). */
export { colourOn as wantsColour } from '@p2pservice/cli';

const BOLD_YELLOW = '\x1b[1;33m';
const RESET = '\x1b[0m';

/**
 * Shows a name with what the query matched in bold yellow. Each piece is escaped on its own (escaping
 * changes lengths, so the match is found in the name first), so a name cannot forge or end our colour.
 */
export function highlighter(matcher: SearchMatcher | undefined, colour: boolean): (name: string) => string {
  if (!matcher || !colour) return terminalSafe;
  return (name) => {
    let shown = '';
    let at = 0;
    for (const [start, end] of matcher.highlights(name)) {
      shown += terminalSafe(name.slice(at, start)) + BOLD_YELLOW + terminalSafe(name.slice(start, end)) + RESET;
      at = end;
    }
    return shown + terminalSafe(name.slice(at));
  };
}
