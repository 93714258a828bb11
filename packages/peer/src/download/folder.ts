import { join } from 'node:path';
import { folderDigest, type ListEntry, P2PError, quoted, sharedNameProblem } from '@p2pservice/protocol';
import type { DownloadResult } from './download.js';
import { localName } from './local-name.js';

/** Files of one folder downloaded at once: as many as a holder serves one sender at once (its upload slots per sender). */
export const FOLDER_DOWNLOADS_AT_ONCE = 4;

/**
 * A folder's name on the network, as people type it: `Music/Abbey Road`, with or without the final `/`;
 * checked as a shared name is (no `..`, no absolute path, no control characters), BAD_CONFIG otherwise.
 */
export function folderPrefix(path: string): string {
  const trimmed = path.replace(/\/$/, '');
  if (trimmed === '') throw new P2PError('BAD_CONFIG', 'no folder named', 'name one as `peer browse` shows it, e.g. "Music/Abbey Road/"');
  const problem = sharedNameProblem(trimmed);
  if (problem) throw new P2PError('BAD_CONFIG', `${quoted(path)} is not a valid folder name: it ${problem}`, 'name one as `peer browse` shows it');
  return `${trimmed}/`;
}

/**
 * The files under `prefix`, one content per name: where several contents share a name, the one most
 * peers hold (the others are said in `ambiguous`).
 */
export async function folderFiles(entries: AsyncIterable<ListEntry>, prefix: string): Promise<{ files: ListEntry[]; ambiguous: string[] }> {
  const byName = new Map<string, ListEntry>();
  const ambiguous = new Set<string>();
  for await (const entry of entries) {
    if (!entry.name.startsWith(prefix)) continue;
    const seen = byName.get(entry.name);
    if (seen) ambiguous.add(entry.name);
    if (!seen || entry.holders > seen.holders) byName.set(entry.name, entry);
  }
  return { files: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), ambiguous: [...ambiguous] };
}

/**
 * Where a file of the folder goes: the folder itself under `outDir` (by its last name), then the file's
 * own subfolders, each segment saved under a name this disk can hold.
 */
export function folderFileDir(outDir: string, prefix: string, name: string, platform: NodeJS.Platform = process.platform): string {
  const folder = prefix.slice(0, -1).split('/').at(-1)!;
  const inside = name.slice(prefix.length).split('/').slice(0, -1);
  return join(outDir, ...[folder, ...inside].map((segment) => localName(segment, platform).name));
}

export interface FolderProgress {
  files: number;
  filesDone: number;
  bytes: number;
  bytesDone: number;
}

export interface FolderResult {
  folder: string;
  /** Each file saved (or found there already), in the order they finished. */
  saved: { name: string; result: DownloadResult }[];
  /** Each file that could not be fetched, with why. */
  failed: { name: string; error: string }[];
  /** Names several contents share: the one most peers hold was taken. */
  ambiguous: string[];
  bytes: number;
  /** The digest of the files found under the folder (folderDigest), to hold a folder link to. */
  digest: string;
}

/**
 * Downloads every file of a folder, a few at once, each by the one download every face uses (verified,
 * resumable). A file that fails is said and the rest go on; a stop (the signal) lets the running ones
 * keep their parts and throws INTERRUPTED once they have.
 */
export async function downloadFolder(options: {
  prefix: string;
  files: readonly ListEntry[];
  ambiguous: string[];
  signal?: AbortSignal;
  downloadOne: (file: ListEntry) => Promise<DownloadResult>;
  onSaved?: (name: string, result: DownloadResult) => void;
  onProgress?: (progress: FolderProgress) => void;
  receivedOf?: () => number;
}): Promise<FolderResult> {
  const { files, signal } = options;
  if (files.length === 0) throw new P2PError('NOT_FOUND', `nothing is shared under ${quoted(options.prefix)}`, 'see `peer browse` for the folders on the network');
  const result: FolderResult = { folder: options.prefix, saved: [], failed: [], ambiguous: options.ambiguous, bytes: files.reduce((sum, f) => sum + f.size, 0), digest: folderDigest(files) };
  let next = 0;
  let bytesDone = 0;
  const report = () => options.onProgress?.({ files: files.length, filesDone: result.saved.length + result.failed.length, bytes: result.bytes, bytesDone });
  const worker = async () => {
    while (next < files.length && !signal?.aborted) {
      const file = files[next++]!;
      try {
        const saved = await options.downloadOne(file);
        result.saved.push({ name: file.name, result: saved });
        options.onSaved?.(file.name, saved);
      } catch (error) {
        if (signal?.aborted) return;
        result.failed.push({ name: file.name, error: error instanceof Error ? error.message : String(error) });
      }
      bytesDone += file.size;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(FOLDER_DOWNLOADS_AT_ONCE, files.length) }, worker));
  if (signal?.aborted) {
    throw new P2PError('INTERRUPTED', `stopped: ${result.saved.length} of ${files.length} files of ${quoted(options.prefix)} are saved, the parts of the others kept`, 'run the same command again to go on');
  }
  return result;
}

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

