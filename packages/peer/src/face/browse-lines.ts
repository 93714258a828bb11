import { type ListEntry, quoted, terminalSafe } from '@p2pservice/protocol';
import type { FolderLevel } from '../download/folder.js';
import { formatBytes, formatTable } from './format.js';

/** Whose files a browse shows, when one holder's: as the tracker named it, and as the person typed it. */
export interface BrowsedHolder {
  holder: string;
  member?: string;
  asked: string;
}

/** A holder in a few words: its member name and identity's start, or the start alone. */
export function holderWords({ holder, member }: { holder: string; member?: string }): string {
  return member === undefined ? holder.slice(0, 7) : `${terminalSafe(member)} (${holder.slice(0, 7)})`;
}

/** `peer browse`: the folders (files in them, size summed), then the files, under a heading. */
export function browseTable(level: FolderLevel, prefix: string, by?: BrowsedHolder): string {
  if (level.folders.length === 0 && level.files.length === 0) {
    if (by !== undefined) return prefix === '' ? `${holderWords(by)} shares no files.\n` : `${holderWords(by)} shares nothing under ${quoted(prefix)}.\n`;
    return prefix === '' ? 'No files are shared on the network yet.\n' : `Nothing is shared under ${quoted(prefix)}.\n`;
  }
  const rows = [
    ...level.folders.map((f) => [terminalSafe(f.name), formatBytes(f.bytes), `${f.files} file${f.files === 1 ? '' : 's'}`, String(f.holders)]),
    ...level.files.map((f) => [terminalSafe(f.name.slice(prefix.length)), formatBytes(f.size), '', String(f.holders)]),
  ];
  const where = prefix === '' ? 'The network' : terminalSafe(prefix);
  const heading = by === undefined ? where : `Shared by ${holderWords(by)}${prefix === '' ? '' : `: ${terminalSafe(prefix)}`}`;
  const folder = level.folders.length > 0 ? terminalSafe(prefix + level.folders[0]!.name) : '';
  const browseAgain = by === undefined ? 'peer browse' : `peer browse --holder '${terminalSafe(by.asked)}'`;
  const hint = folder === '' ? '' : `\nOpen a folder: ${browseAgain} '${folder}'; fetch one whole: peer get '${folder}'\n`;
  return `${heading}\n${formatTable(['NAME', 'SIZE', 'FILES', 'HOLDERS'], rows, new Set([1, 2, 3]))}\n${hint}`;
}

interface TreeFolder {
  folders: Map<string, TreeFolder>;
  files: ListEntry[];
  count: number;
  bytes: number;
}

/**
 * `peer list --tree`: the whole network as an indented tree, each folder with its files and bytes summed,
 * each file with its size and holders.
 */
export async function treeTable(entries: AsyncIterable<ListEntry>): Promise<string> {
  const top: TreeFolder = { folders: new Map(), files: [], count: 0, bytes: 0 };
  for await (const entry of entries) {
    const parts = entry.name.split('/');
    let folder = top;
    folder.count += 1;
    folder.bytes += entry.size;
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { folders: new Map(), files: [], count: 0, bytes: 0 }));
      next.count += 1;
      next.bytes += entry.size;
      folder = next;
    }
    folder.files.push(entry);
  }
  if (top.count === 0) return 'No files are shared on the network yet.\n';
  const rows: string[][] = [];
  const walk = (folder: TreeFolder, depth: number) => {
    const indent = '  '.repeat(depth);
    for (const [name, sub] of [...folder.folders.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push([`${indent}${terminalSafe(name)}/`, formatBytes(sub.bytes), `${sub.count} file${sub.count === 1 ? '' : 's'}`]);
      walk(sub, depth + 1);
    }
    for (const file of folder.files.sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push([`${indent}${terminalSafe(file.name.split('/').at(-1)!)}`, formatBytes(file.size), `${file.holders} holder${file.holders === 1 ? '' : 's'}`]);
    }
  };
  walk(top, 0);
  return `${formatTable(['NAME', 'SIZE', ''], rows, new Set([1, 2]))}\n${top.count} file${top.count === 1 ? '' : 's'}, ${formatBytes(top.bytes)}\n`;
}
