import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Sha256Hex } from '@p2pservice/protocol';
import { z } from 'zod';

/*
 * Re-sharing an unchanged folder must not re-read every byte. The cache maps a file's identity on disk
 * (size, mtime, ctime, inode) to its sha256. ctime is part of the key because no program can set it back:
 * a file rewritten in place with its mtime restored still gets a new ctime, so it is hashed again.
 * The cache is a file in the user's cache folder, one per shared root; it is validated when read and
 * rebuilt (never trusted) when it does not parse.
 */

export const FileIdentity = z.strictObject({
  size: z.number().int().min(0),
  mtimeMs: z.number(),
  ctimeMs: z.number(),
  ino: z.number().int().min(0),
});
export type FileIdentity = z.infer<typeof FileIdentity>;

const CACHE_VERSION = 1;

const CacheFile = z.strictObject({
  version: z.literal(CACHE_VERSION),
  root: z.string(),
  files: z.record(z.string(), z.strictObject({ ...FileIdentity.shape, sha256: Sha256Hex })),
});
type CacheFile = z.infer<typeof CacheFile>;

/** `$XDG_CACHE_HOME/p2pservice`, or `~/.cache/p2pservice`: where the CLI keeps hash caches. */
export function defaultCacheDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'p2pservice');
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

export class HashCache {
  private constructor(
    readonly file: string,
    private readonly root: string,
    private readonly previous: CacheFile['files'],
    /** Why the cache on disk was not used, if it was not (missing is not a problem). */
    readonly problem: string | undefined,
  ) {}

  /** Opens the cache of `root` (an absolute, resolved path) in `cacheDir`. Never throws for a bad file. */
  static async open(cacheDir: string, root: string): Promise<HashCache> {
    const file = join(cacheDir, `hashes-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return new HashCache(file, root, {}, undefined);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return new HashCache(file, root, {}, `hash cache ${file} is not valid JSON; rebuilding it`);
    }
    const result = CacheFile.safeParse(parsed);
    if (!result.success || result.data.root !== root) {
      return new HashCache(file, root, {}, `hash cache ${file} is not a valid cache of this folder; rebuilding it`);
    }
    return new HashCache(file, root, result.data.files, undefined);
  }

  /** Entries read from disk. */
  get size(): number {
    return Object.keys(this.previous).length;
  }

  /** The cached sha256 of `name` if its identity on disk is unchanged. */
  lookup(name: string, identity: FileIdentity): string | undefined {
    const entry = this.previous[name];
    return entry && sameIdentity(entry, identity) ? entry.sha256 : undefined;
  }

  /** Writes the cache of `files` atomically (temp file, then rename). Failing to cache does not fail a share. */
  async save(files: Iterable<FileIdentity & { name: string; sha256: string }>): Promise<string | undefined> {
    const entries: CacheFile['files'] = {};
    for (const { name, size, mtimeMs, ctimeMs, ino, sha256 } of files) entries[name] = { size, mtimeMs, ctimeMs, ino, sha256 };
    const content: CacheFile = { version: CACHE_VERSION, root: this.root, files: entries };
    const temporary = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeFile(temporary, JSON.stringify(content), { flag: 'wx', mode: 0o600 });
      await rename(temporary, this.file);
      return undefined;
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      return `could not write hash cache ${this.file}: ${(error as Error).message}`;
    }
  }
}
