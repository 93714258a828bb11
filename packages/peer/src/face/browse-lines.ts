import { quoted, terminalSafe } from '@p2pservice/protocol';
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
