import type { FileEntry } from '@p2pservice/protocol';
import type { HashCache } from './hash-cache.js';
import type { FileIdentity } from '../util/file-checks.js';

/**
 * A file this peer shares: what the network sees (name, size, sha256, root) and where and what it is on
 * disk, with its piece layer (32 bytes per piece) when it has several pieces.
 */
export interface IndexedFile extends FileEntry, FileIdentity {
  path: string;
  layer?: Buffer;
}

export interface SkippedFile {
  name: string;
  reason: string;
}

/** The shared files of one folder, looked up by content: a holder serves by sha256, never by a path. */
export class ShareIndex {
  private readonly byName = new Map<string, IndexedFile>();
  /** Names sharing each content: every fetch looks content up by hash, so this must not be a scan. */
  private readonly bySha256 = new Map<string, Set<string>>();
  /** Changes since the index was built (by the folder watcher or re-hashes). */
  changes = 0;

  constructor(
    readonly root: string,
    files: readonly IndexedFile[],
    readonly skipped: readonly SkippedFile[],
    /** The hash cache this index was built with, to keep using and saving while the folder changes. */
    readonly cache?: HashCache,
    /** The program's own files and folders, left out of this share as it changes too. */
    readonly privatePaths: readonly string[] = [],
  ) {
    for (const file of files) this.put(file);
  }

  get files(): IndexedFile[] {
    return [...this.byName.values()];
  }

  get totalBytes(): number {
    let sum = 0;
    for (const file of this.byName.values()) sum += file.size;
    return sum;
  }

  /** A file with this content, if any is shared. */
  find(sha256: string): IndexedFile | undefined {
    const names = this.bySha256.get(sha256);
    if (!names) return undefined;
    for (const name of names) return this.byName.get(name);
    return undefined;
  }

  get(name: string): IndexedFile | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** Names of the entries at `path` or below it (`''`: all of them). */
  namesUnder(path: string): string[] {
    if (path === '') return [...this.byName.keys()];
    const prefix = `${path}/`;
    return [...this.byName.keys()].filter((name) => name === path || name.startsWith(prefix));
  }

  /** Replaces (or, with `undefined`, removes) the entry for `name`. */
  update(name: string, file: IndexedFile | undefined): void {
    this.changes++;
    this.remove(name);
    if (file) this.put(file);
  }

  private put(file: IndexedFile): void {
    this.byName.set(file.name, file);
    let names = this.bySha256.get(file.sha256);
    if (!names) this.bySha256.set(file.sha256, (names = new Set()));
    names.add(file.name);
  }

  private remove(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    const names = this.bySha256.get(old.sha256);
    names?.delete(name);
    if (names?.size === 0) this.bySha256.delete(old.sha256);
  }

  entries(): FileEntry[] {
    return this.files.map(({ name, size, sha256, root }) => ({ name, size, sha256, root }));
  }
}
