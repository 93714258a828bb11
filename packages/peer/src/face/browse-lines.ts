import { type ListEntry, quoted, terminalSafe } from '@p2pservice/protocol';
import type { FolderLevel } from '../download/folder.js';
import { formatBytes, formatTable } from './format.js';

/** `peer browse`: the folders (files in them, size summed), then the files, under a heading. */
export function browseTable(level: FolderLevel, prefix: string): string {
  if (level.folders.length === 0 && level.files.length === 0) {
    return prefix === '' ? 'No files are shared on the network yet.\n' : `Nothing is shared under ${quoted(prefix)}.\n`;
  }
  const rows = [
    ...level.folders.map((f) => [terminalSafe(f.name), formatBytes(f.bytes), `${f.files} file${f.files === 1 ? '' : 's'}`, String(f.holders)]),
    ...level.files.map((f) => [terminalSafe(f.name.slice(prefix.length)), formatBytes(f.size), '', String(f.holders)]),
  ];
  const heading = prefix === '' ? 'The network' : terminalSafe(prefix);
  const hint = level.folders.length > 0 ? `\nOpen a folder: peer browse '${terminalSafe(prefix + level.folders[0]!.name)}'; fetch one whole: peer get '${terminalSafe(prefix + level.folders[0]!.name)}'\n` : '';
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
