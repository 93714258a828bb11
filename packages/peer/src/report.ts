import { type Address, type ListEntry, quoted, terminalSafe, TrackerSession } from '@p2pservice/protocol';
import type { AmbiguousNameError, DownloadResult } from './download.js';
import { HOLDER_AGENT } from './file-server.js';
import { formatBytes, formatTable } from './format.js';
import type { ShareSession, ShareStatus } from './share.js';

/** What the CLI and the menu print: the same words for the same events. */

export type Write = (text: string) => void;

/** Fetches the whole list from the tracker page by page; prints a table, or a JSON array as it arrives. */
export async function printList(tracker: Address, json: boolean, out: Write): Promise<number> {
  const session = await TrackerSession.open(tracker, { agent: HOLDER_AGENT });
  let count = 0;
  try {
    if (json) {
      out('[');
      for await (const entry of session.list()) out(`${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(entry)}`);
      out(count ? '\n]\n' : ']\n');
      return count;
    }
    const entries: ListEntry[] = [];
    for await (const entry of session.list()) entries.push(entry);
    count = entries.length;
    out(listTable(entries));
    return count;
  } finally {
    await session.close();
  }
}

export function listTable(entries: readonly ListEntry[]): string {
  if (entries.length === 0) return 'No files are shared on the network yet.\n';
  const rows = entries.map((e) => [terminalSafe(e.name), formatBytes(e.size), String(e.holders), e.sha256.slice(0, 12)]);
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  const files = entries.length === 1 ? '1 file' : `${entries.length} files`;
  return `${formatTable(['NAME', 'SIZE', 'HOLDERS', 'SHA256'], rows, new Set([1, 2]))}\n${files}, ${formatBytes(total)}\n`;
}

export function ambiguousTable(error: AmbiguousNameError, numbered = false): string {
  const rows = error.contents.map((c, i) => [
    ...(numbered ? [`${i + 1})`] : []),
    c.sha256.slice(0, 12),
    formatBytes(c.size),
    String(c.holders.length),
  ]);
  const header = [...(numbered ? [''] : []), 'SHA256', 'SIZE', 'HOLDERS'];
  return `${formatTable(header, rows, new Set(numbered ? [2, 3] : [1, 2]))}\n`;
}

export function shareSummary(dir: string, session: ShareSession): string {
  const { index } = session;
  const files = index.files.length === 1 ? '1 file' : `${index.files.length} files`;
  return `sharing ${files} (${formatBytes(index.totalBytes)}) from ${terminalSafe(dir)} on port ${session.port}, tracker ${session.trackerLabel}\n`;
}

export function skippedLines(session: ShareSession): string {
  return session.index.skipped.map((s) => `peer: skipped ${quoted(s.name)}: ${s.reason}\n`).join('');
}

export function downloadSummary(result: DownloadResult): string {
  if (result.holder === null) return `${terminalSafe(result.path)} already has this content (${formatBytes(result.size)}, sha256 ${result.sha256.slice(0, 12)})\n`;
  return `saved ${terminalSafe(result.path)} (${formatBytes(result.size)}, sha256 ${result.sha256.slice(0, 12)}) from ${result.holder}\n`;
}


/** One line on stderr for each change in a share's life: tracker lost and back, folder changes. */
export function statusLine(status: ShareStatus): string {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  switch (status.kind) {
    case 'tracker-lost':
      return `tracker ${status.tracker} lost, retrying in ${seconds(status.retryInMs)}\n`;
    case 'tracker-retry':
      return `tracker ${status.tracker} still unreachable (${terminalSafe(status.reason)}), retrying in ${seconds(status.retryInMs)}\n`;
    case 'tracker-back':
      return `tracker ${status.tracker} is back; ${status.files === 1 ? '1 file' : `${status.files} files`} registered again\n`;
    case 'folder-changed':
      return `share updated: ${status.added} added or changed, ${status.removed} removed; ${status.files === 1 ? '1 file' : `${status.files} files`} shared\n`;
  }
}
