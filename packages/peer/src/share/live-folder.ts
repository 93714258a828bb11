import { EventEmitter, once } from 'node:events';
import { lstat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { identityOf, sameIdentity } from '../util/file-checks.js';
import type { HashCache } from './hash-cache.js';
import { describeFile, lstatInSlices, walk } from './index-folder.js';
import { IGNORE_FILE, ShareFilter } from './share-filter.js';
import type { IndexedFile, ShareIndex, SkippedFile } from './share-index.js';
import { RESCAN_INTERVAL_MS } from '../settings/defaults.js';

/** Changes to apply to the tracker's copy of a share. */
export interface FolderDelta {
  added: IndexedFile[];
  removed: string[];
}

export interface LiveFolderOptions {
  index: ShareIndex;
  cache?: HashCache;
  maxFiles: number;
  logger: Logger;
  onDelta: (delta: FolderDelta) => Promise<void>;
  onWarning?: (line: string) => void;
  /** Quiet time after the last event before changes are looked at. */
  debounceMs?: number;
  /** A new or changed file is announced only once its mtime is at least this old (it may still be written). */
  stableMs?: number;
  /** Full rescans catch what a watcher can miss. */
  rescanIntervalMs?: number;
}

export const WATCH_DEBOUNCE_MS = 300;
export const STABLE_FILE_MS = 1_000;

/**
 * Keeps a share's index true while its folder changes. chokidar (one watch per folder, new sub-folders
 * included) only says *where* something happened; the index is then reconciled with what is on disk at
 * that path, so a missed, duplicated or reordered event cannot leave it wrong. Unchanged files (same size,
 * mtime, ctime, inode) are never re-read; a file still being written waits until it is stable.
 */
export class LiveFolder {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Says 'idle' whenever a reconciliation ends with nothing marked, and when the folder is closed. */
  private readonly events = new EventEmitter<{ idle: [] }>();
  private readonly rescanTimer: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly debounceMs: number;
  private readonly stableMs: number;

  private constructor(
    private readonly options: LiveFolderOptions,
    private readonly watcher: FSWatcher,
  ) {
    this.debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
    this.stableMs = options.stableMs ?? STABLE_FILE_MS;
    const root = options.index.root;
    watcher.on('all', (_event, path) => this.mark(toName(root, path)));
    watcher.on('error', (error) => options.logger.warn({ err: error }, 'folder watcher error; the periodic rescan will catch up'));
    this.rescanTimer = setInterval(() => this.mark(''), options.rescanIntervalMs ?? RESCAN_INTERVAL_MS);
    this.rescanTimer.unref();
  }

  /** Starts watching; the watcher's own scan of a big folder goes on in the background. */
  static async start(options: LiveFolderOptions): Promise<LiveFolder> {
    // Loaded here, not at start-up: only sharing needs a watcher.
    const { watch } = await import('chokidar');
    const watcher = watch(options.index.root, { ignoreInitial: true, followSymlinks: false, persistent: true, ignorePermissionErrors: true });
    const live = new LiveFolder(options, watcher);
    // Anything that changed between indexing and the watcher being ready is caught by one rescan.
    watcher.once('ready', () => live.mark(''));
    return live;
  }

  /** Notes that something at `name` (a file or folder, `''` for all) may have changed. */
  mark(name: string, delayMs = this.debounceMs): void {
    if (this.closed) return;
    this.dirty.add(name);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.running.then(() => this.reconcileDirty());
    }, delayMs);
  }

  /** Resolves once every change marked so far has been reconciled and reported. */
  async settled(): Promise<void> {
    // A file still being written is marked again until it is stable: that is part of settling too.
    if (this.dirty.size > 0 && !this.closed) await once(this.events, 'idle');
    await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.emit('idle');
    clearTimeout(this.timer);
    clearInterval(this.rescanTimer);
    await this.watcher.close();
    await this.running;
  }

  private async reconcileDirty(): Promise<void> {
    if (this.closed || this.dirty.size === 0) return;
    const paths = collapse([...this.dirty]);
    this.dirty.clear();
    try {
      const { delta, unstable } = await this.reconcile(paths);
      if (delta.added.length > 0 || delta.removed.length > 0) await this.options.onDelta(delta);
      for (const name of unstable) this.mark(name, this.stableMs);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not reconcile the shared folder; will retry');
      for (const path of paths) this.mark(path, this.stableMs);
    }
    if (this.dirty.size === 0) this.events.emit('idle');
  }

  private async reconcile(paths: string[]): Promise<{ delta: FolderDelta; unstable: string[] }> {
    const { index, cache, maxFiles } = this.options;
    const delta: FolderDelta = { added: [], removed: [] };
    const unstable: string[] = [];
    // Read again each time: an edited .p2pignore takes effect at once (its change marks the whole folder).
    const filter = await ShareFilter.of(index.root, index.privatePaths);
    if (paths.some((path) => path === IGNORE_FILE)) paths = [''];
    for (const path of paths) {
      const present = new Set(await filesAt(index.root, path, filter));
      for (const name of index.namesUnder(path)) {
        if (!present.has(name)) {
          index.update(name, undefined);
          delta.removed.push(name);
        }
      }
      const names = [...present];
      const statted = await lstatInSlices(index.root, names);
      for (const [at, name] of names.entries()) {
        const known = index.get(name);
        const stats = statted[at]!;
        if (stats instanceof Error || !stats.isFile()) continue;
        if (known && sameIdentity(known, identityOf(stats))) continue;
        if (Date.now() - stats.mtimeMs < this.stableMs) {
          unstable.push(name);
          continue;
        }
        if (!known && index.size >= maxFiles) {
          this.options.onWarning?.(`not sharing "${name}": the share is at its limit of ${maxFiles} files`);
          continue;
        }
        const described = await describeFile(index.root, name, cache, stats);
        if ('problem' in described) {
          if (described.unstable) unstable.push(name);
          else if (known) {
            index.update(name, undefined);
            delta.removed.push(name);
          }
          continue;
        }
        index.update(name, described.file);
        delta.added.push(described.file);
      }
    }
    return { delta, unstable };
  }
}

/** The valid shared names of the regular files at `path` (a file, a folder, or nothing any more). */
async function filesAt(root: string, path: string, filter: ShareFilter): Promise<string[]> {
  const full = path === '' ? root : join(root, ...path.split('/'));
  const stats = await lstat(full).catch(() => undefined);
  if (!stats || (path !== '' && isExcluded(path, stats.isDirectory(), filter))) return [];
  if (stats.isFile()) return path === '' ? [] : [path];
  if (!stats.isDirectory()) return [];
  const found: string[] = [];
  const skipped: SkippedFile[] = [];
  // A live folder may grow past the limit; the caller refuses the surplus one by one.
  await walk(full, path, found, skipped, Number.MAX_SAFE_INTEGER, filter).catch(() => undefined);
  return found;
}

/** Whether `path` or a folder above it is left out by `filter`. */
function isExcluded(path: string, isFolder: boolean, filter: ShareFilter): boolean {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) if (filter.excludes(parts.slice(0, i).join('/'), true)) return true;
  return filter.excludes(path, isFolder);
}

/** Drops paths that lie inside another path of the set: reconciling the outer one covers them. */
function collapse(paths: string[]): string[] {
  if (paths.includes('')) return [''];
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((path) => !sorted.some((other) => other !== path && path.startsWith(`${other}/`)));
}

function toName(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
