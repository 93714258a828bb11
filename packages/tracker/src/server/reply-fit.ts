import {
  type Content,
  cursorOfRanked,
  FrameBudget,
  type ContentHolder,
  jsonBytes,
  type ListCursor,
  type ListEntry,
  MAX_REQUEST_ID,
  P2PError,
  type RankedEntry,
  type SearchCursor,
} from '@p2pservice/protocol';

/*
 * Replies that grow with the data are cut to fit one frame (spec: Limits). A list page of a thousand
 * 1024-byte names, or names whose JSON escaping doubles them, would not fit in MAX_FRAME_BYTES: it ends
 * early instead, with a cursor to continue from.
 */

const cursorOf = (row: ListEntry): ListCursor => ({ name: row.name, sha256: row.sha256 });

/**
 * As many of `rows` (a store page asked with `limit`) as fit a `list_page` frame of `maxFrameBytes`, and
 * the cursor to continue from: null only when the store had no more rows.
 */
export function fitListPage(rows: readonly ListEntry[], limit: number, maxFrameBytes: number): { files: ListEntry[]; next: ListCursor | null } {
  return fitPage('list_page', rows, limit, maxFrameBytes, (row) => row, cursorOf);
}

/** As `fitListPage`, for a page of search results (sent as list rows, continued after a search cursor). */
export function fitSearchPage(rows: readonly RankedEntry[], limit: number, maxFrameBytes: number): { files: ListEntry[]; next: SearchCursor | null } {
  return fitPage('search_page', rows, limit, maxFrameBytes, ({ rank: _rank, ...row }) => row, cursorOfRanked);
}

function fitPage<Row, Cursor>(
  type: string,
  rows: readonly Row[],
  limit: number,
  maxFrameBytes: number,
  entryOf: (row: Row) => ListEntry,
  cursorOfRow: (row: Row) => Cursor,
): { files: ListEntry[]; next: Cursor | null } {
  // The envelope with `"next":null`; a cursor takes the place of those four bytes.
  let used = jsonBytes({ type, id: MAX_REQUEST_ID, files: [], next: null }) - 'null'.length;
  const files: ListEntry[] = [];
  let last: Row | undefined;
  for (const row of rows) {
    const entry = entryOf(row);
    const bytes = jsonBytes(entry) + (files.length > 0 ? 1 : 0);
    if (used + bytes + jsonBytes(cursorOfRow(row)) > maxFrameBytes) break;
    used += bytes;
    files.push(entry);
    last = row;
  }
  if (last === undefined && rows.length > 0) throw new P2PError('INTERNAL', `a single ${type} row does not fit a frame`);
  const exhausted = files.length === rows.length && rows.length < limit;
  return { files, next: exhausted || last === undefined ? null : cursorOfRow(last) };
}

/** As many of `contents` and of their holders as fit a `holders` frame for `name`. */
export function fitContents(name: string, contents: readonly Content[], maxFrameBytes: number): Content[] {
  let used = jsonBytes({ type: 'holders', id: MAX_REQUEST_ID, name, contents: [] });
  const fitted: Content[] = [];
  for (const content of contents) {
    const shell = { sha256: content.sha256, size: content.size, holders: [] as ContentHolder[] };
    let cost = jsonBytes(shell) + (fitted.length > 0 ? 1 : 0);
    for (const holder of content.holders) {
      const bytes = jsonBytes(holder) + (shell.holders.length > 0 ? 1 : 0);
      if (used + cost + bytes > maxFrameBytes) break;
      cost += bytes;
      shell.holders.push(holder);
    }
    if (shell.holders.length === 0) break;
    used += cost;
    fitted.push(shell);
  }
  return fitted;
}

/** As many of `holders` as fit a `content_holders` frame. */
export function fitHolders(sha256: string, holders: readonly ContentHolder[], maxFrameBytes: number): ContentHolder[] {
  const budget = new FrameBudget(maxFrameBytes - jsonBytes({ type: 'content_holders', id: MAX_REQUEST_ID, sha256, holders: [] }));
  const fitted: ContentHolder[] = [];
  for (const holder of holders) {
    if (!budget.take(jsonBytes(holder))) break;
    fitted.push(holder);
  }
  return fitted;
}
