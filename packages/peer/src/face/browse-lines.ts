import { type ListEntry, quoted, terminalSafe } from '@p2pservice/protocol';
import { formatBytes, formatTable } from './format.js';

/** One level of the network seen as folders: the subfolders of `prefix` (summed), then its files. */
export interface FolderLevel {
  folders: { name: string; files: number; bytes: number; holders: number }[];
  files: ListEntry[];
}

/** Sorts `entries` into the folders and files right under `prefix` ('' for the top). */
export async function folderLevel(entries: AsyncIterable<ListEntry>, prefix: string): Promise<FolderLevel> {
  const folders = new Map<string, { name: string; files: number; bytes: number; holders: number }>();
  const files: ListEntry[] = [];
  for await (const entry of entries) {
    if (!entry.name.startsWith(prefix)) continue;
    const rest = entry.name.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      files.push(entry);
      continue;
    }
    const name = `${rest.slice(0, slash)}/`;
    const folder = folders.get(name) ?? { name, files: 0, bytes: 0, holders: 0 };
    folder.files += 1;
    folder.bytes += entry.size;
    // The most peers holding any one file of it: how well the folder is held at best.
    folder.holders = Math.max(folder.holders, entry.holders);
    folders.set(name, folder);
  }
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return { folders: [...folders.values()].sort(byName), files: files.sort(byName) };
}

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
