import { type ListEntry, quoted, shortIdentity, terminalSafe } from '@p2pservice/protocol';
import type { DownloadResult } from '../download/download.js';
import type { FolderResult } from '../download/folder.js';
import type { AmbiguousNameError } from '../download/resolve.js';
import type { Reconnecting, ShareState, TrackerInfo } from '../node-events.js';
import { formatBytes, formatTable } from './format.js';
import type { ShownResults } from './shown-results.js';
import { PEER_SETTINGS } from '../settings/table.js';

/** What the CLI and the menu print: the same words for the same events. */

export type Write = (text: string) => void;

/**
 * Prints the whole list: a JSON array written row by row as the pages arrive (nothing kept), or a
 * numbered table, remembered in `shown` so that `peer get N` can pick a row. Returns the row count.
 */
export async function printList(entries: AsyncIterable<ListEntry>, json: boolean, out: Write, shown?: ShownResults, empty?: () => string): Promise<number> {
  let count = 0;
  if (json) {
    out('[');
    for await (const entry of entries) out(`${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(entry)}`);
    out(count ? '\n]\n' : ']\n');
    return count;
  }
  const rows: ListEntry[] = [];
  for await (const entry of entries) rows.push(entry);
  out(listTable(rows, empty?.()));
  await shown?.remember('list', rows);
  return rows.length;
}

export function listTable(entries: readonly ListEntry[], empty = 'No files are shared on the network yet.'): string {
  if (entries.length === 0) return `${empty}\n`;
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  return `${numberedTable(entries, terminalSafe)}\n${fileCount(entries.length)}, ${formatBytes(total)}\n`;
}

/** Search results: a numbered table, the matches painted by `paint`, and what to do for more. */
export function searchTable(query: string, entries: readonly ListEntry[], limit: number, paint: (name: string) => string, moreHint: string): string {
  const asked = quoted(query);
  if (entries.length === 0) return `Nothing on the network matches ${asked}.\n`;
  const count = entries.length === 1 ? '1 result' : `${entries.length} results`;
  const more = entries.length >= limit ? ` (the best ${limit}; ${moreHint})` : '';
  return `${numberedTable(entries, paint)}\n${count} for ${asked}${more}\n`;
}

/** Rows numbered from 1, the number `peer get N` and the menu's download take. */
function numberedTable(entries: readonly ListEntry[], paint: (name: string) => string): string {
  const rows = entries.map((e, i) => [String(i + 1), paint(e.name), formatBytes(e.size), holdersText(e), e.sha256.slice(0, 12)]);
  return formatTable(['#', 'NAME', 'SIZE', 'HOLDERS', 'SHA256'], rows, new Set([0, 2, 3]));
}

/** "3", or "3 (1 firewalled)" when some holders are reached only through connect-back. */
export function holdersText(entry: Pick<ListEntry, 'holders' | 'firewalled'>): string {
  return entry.firewalled ? `${entry.holders} (${entry.firewalled} firewalled)` : String(entry.holders);
}

export function ambiguousTable(error: AmbiguousNameError, numbered = false): string {
  const rows = error.contents.map((c, i) => [
    ...(numbered ? [`${i + 1})`] : []),
    c.sha256.slice(0, 12),
    formatBytes(c.size),
    holdersText({ holders: c.holders.length, firewalled: c.holders.filter((h) => h.firewalled).length }),
  ]);
  const header = [...(numbered ? [''] : []), 'SHA256', 'SIZE', 'HOLDERS'];
  return `${formatTable(header, rows, new Set(numbered ? [2, 3] : [1, 2]))}\n`;
}

const fileCount = (n: number) => (n === 1 ? '1 file' : `${n} files`);

export function shareSummary(share: ShareState): string {
  const tracker = trackerWords({ address: share.tracker, ...(share.trackerId && { id: share.trackerId }), network: share.network, ...(share.member && { member: share.member }) });
  const line = `sharing ${fileCount(share.files)} (${formatBytes(share.bytes)}) from ${terminalSafe(share.dir)} on port ${share.port}, ${tracker}\n`;
  return share.firewalled === undefined ? line : line + firewalledLine(share);
}

/** What a firewalled share means for its user, and how to leave that mode. */
export function firewalledLine(share: Pick<ShareState, 'port' | 'firewalled'>): string {
  return `firewalled: ${terminalSafe(share.firewalled ?? '')}; others download through connect-back (you dial them), which fails only if they are firewalled too; let TCP port ${share.port} in (set ${PEER_SETTINGS.port.env} to keep it) to be reached directly\n`;
}

/**
 * "tracker 10.0.0.5:7070 (FUZ2XBA, private network)": who the tracker proved to be, in its short form;
 * on a members network also who we are there: "(FUZ2XBA, members network, you are alice)".
 */
export function trackerWords(info: Pick<TrackerInfo, 'address' | 'id' | 'network' | 'member'>): string {
  const you = info.member === undefined ? '' : `, you are ${terminalSafe(info.member)}`;
  return `tracker ${info.address} (${info.id ? `${shortIdentity(info.id)}, ` : ''}${info.network} network${you})`;
}

export function trustedLine(tracker: string, id: string): string {
  return `peer: trusting tracker ${tracker} on first use; its identity ${id} is remembered from now on\n`;
}

export function skippedLines(share: ShareState): string {
  return share.skipped.map((s) => `peer: skipped ${quoted(s.name)}: ${s.reason}\n`).join('');
}

export function downloadSummary(result: DownloadResult): string {
  if (result.holder === null) return `${terminalSafe(result.path)} already has this content (${formatBytes(result.size)}, sha256 ${result.sha256.slice(0, 12)})\n`;
  const total = result.holders.reduce((sum, h) => sum + h.bytes, 0);
  const from = result.holders.length > 1 ? result.holders.map((h) => `${h.holder} (${Math.round((100 * h.bytes) / total)} %)`).join(', ') : result.holder;
  const lines = [`saved ${terminalSafe(result.path)} (${formatBytes(result.size)}, sha256 ${result.sha256.slice(0, 12)}) from ${from}\n`];
  for (const liar of result.failed.filter((f) => f.lied)) lines.push(`peer: left out ${liar.holder}: ${terminalSafe(liar.reason)}\n`);
  return lines.join('');
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** One line on stderr for each change in a share's life: tracker lost and back, folder changes. */
export function trackerLostLine(share: ShareState, { attempt, retryInMs, reason, refused }: Reconnecting): string {
  if (refused) return `${terminalSafe(reason)}; retrying in ${seconds(retryInMs)}\n`;
  if (attempt === 0) return `tracker ${share.tracker} lost, retrying in ${seconds(retryInMs)}\n`;
  return `tracker ${share.tracker} still unreachable (${terminalSafe(reason)}), retrying in ${seconds(retryInMs)}\n`;
}

export function trackerBackLine(share: ShareState, previous: string): string {
  if (previous !== share.tracker) return `moved to tracker ${share.tracker} of the same network; ${fileCount(share.files)} registered again\n`;
  return `tracker ${share.tracker} is back; ${fileCount(share.files)} registered again\n`;
}

export function shareUpdatedLine(share: ShareState, change: { added: number; removed: number }): string {
  return `share updated: ${change.added} added or changed, ${change.removed} removed; ${fileCount(share.files)} shared\n`;
}

/** The last line of `peer get DIR/`: how many files, how big, where; and how many could not be fetched. */
export function folderSummary(result: FolderResult, outDir: string): string {
  const fetched = result.saved.filter((s) => s.result.holder !== null).length;
  const here = result.saved.length - fetched;
  const parts = [`${fileCount(result.saved.length)} of ${quoted(result.folder)} (${formatBytes(result.bytes)}) in ${terminalSafe(outDir)}`];
  if (here > 0) parts.push(`${here} there already`);
  if (result.failed.length > 0) parts.push(`${result.failed.length} could not be fetched`);
  return `saved ${parts.join('; ')}\n`;
}
