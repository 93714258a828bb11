/** Human-readable sizes, durations and tables. */

export { formatBytes, formatDuration } from './units.js';

// East Asian wide and fullwidth characters and emoji take two terminal columns; combining marks none.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const ZERO_WIDTH = /\p{Mn}/u;

// Our own colour codes (SGR), the only escape sequences a cell can hold: text from the network is escaped.
const SGR = /\x1b\[[0-9;]*m/g;

/** Columns `text` takes on a terminal, so tables line up with CJK and emoji names, and coloured ones. */
export function displayWidth(text: string): number {
  let width = 0;
  text = text.replace(SGR, '');
  for (const char of text) width += WIDE.test(char) ? 2 : ZERO_WIDTH.test(char) ? 0 : 1;
  return width;
}

/** A plain left/right-aligned text table. */
export function formatTable(header: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  // A loop, not Math.max(...rows): spreading 126 000 rows into arguments overflows the call stack.
  const widths = header.map((h) => displayWidth(h));
  for (const row of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, displayWidth(row[i] ?? ''));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - displayWidth(cell));
        return rightAligned.has(i) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
