import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { appDir } from '@p2pservice/cli';
import { layerFromHex, PieceGeometry } from '@p2pservice/protocol';
import { writeFileAtomically } from '../util/atomic-file.js';
import { type FileIdentity, PRIVATE_KEY_SNIFF_BYTES, sameIdentity } from '../util/file-checks.js';

/*
 * Re-sharing an unchanged folder must not re-read every byte. The cache maps a file's identity on disk
 * (size, mtime, ctime, inode) to its sha256. ctime is part of the key because no program can set it back:
 * a file rewritten in place with its mtime restored still gets a new ctime, so it is hashed again.
 * The cache is a file in the user's cache folder, one per shared root; it is validated when read and
 * rebuilt (never trusted) when it does not parse.
 */

const CACHE_VERSION = 2;

/**
 * A file's hashes as cached: the piece layer (several pieces only) in base64, checked against the root
 * when used. `keysChecked`: a small file was looked at for a private key when it was hashed (entries of
 * an earlier version were not, so their small files are hashed, and looked at, once more).
 */
interface CacheEntry extends FileIdentity {
  sha256: string;
  root: string;
  layer?: string;
  keysChecked?: true;
}

interface CacheFile {
  version: typeof CACHE_VERSION;
  root: string;
  files: Record<string, CacheEntry>;
}

/*
 * The cache is checked by hand, entry by entry, before any of it is used: opening a cache of 100 000
 * files took 660–840 ms with zod (which also copies every entry), 400–480 ms with these checks, most of it
 * now JSON.parse. Anything that is not exactly this shape makes the whole file untrusted, as with zod.
 */
const CACHE_KEYS = new Set(['version', 'root', 'files']);
const ENTRY_KEYS = new Set(['size', 'mtimeMs', 'ctimeMs', 'ino', 'sha256', 'root', 'layer', 'keysChecked']);
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[0-9a-zA-Z+/]{4})*(?:[0-9a-zA-Z+/]{2}==|[0-9a-zA-Z+/]{3}=)?$/;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const hasOnly = (record: Record<string, unknown>, keys: ReadonlySet<string>) => Object.keys(record).every((key) => keys.has(key));

function isCacheEntry(value: unknown): value is CacheEntry {
  if (!isRecord(value) || !hasOnly(value, ENTRY_KEYS)) return false;
  const { size, mtimeMs, ctimeMs, ino, sha256, root, layer, keysChecked } = value;
  return (
    isCount(size) &&
    typeof mtimeMs === 'number' &&
    typeof ctimeMs === 'number' &&
    isCount(ino) &&
    typeof sha256 === 'string' &&
    HEX_SHA256.test(sha256) &&
    typeof root === 'string' &&
    HEX_SHA256.test(root) &&
    (layer === undefined || (typeof layer === 'string' && BASE64.test(layer))) &&
    (keysChecked === undefined || keysChecked === true)
  );
}

function isCacheFile(value: unknown): value is CacheFile {
  if (!isRecord(value) || !hasOnly(value, CACHE_KEYS)) return false;
  if (value.version !== CACHE_VERSION || typeof value.root !== 'string' || !isRecord(value.files)) return false;
  return Object.values(value.files).every(isCacheEntry);
}

/** `$XDG_CACHE_HOME/p2pservice`, or `~/.cache/p2pservice` (the platform's cache folder elsewhere): where the CLI keeps hash caches. */
export function defaultCacheDir(env: Record<string, string | undefined>): string {
  return appDir('cache', env);
}

/** A file's hashes: its SHA-256 and piece-tree root, and its piece layer when it has several pieces. */
export interface CachedHashes {
  sha256: string;
  root: string;
  layer?: Buffer;
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
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && parsed.version !== CACHE_VERSION) {
      return new HashCache(file, root, {}, undefined); // another version's cache: rebuilt without a word
    }
    if (!isCacheFile(parsed) || parsed.root !== root) {
      return new HashCache(file, root, {}, `hash cache ${file} is not a valid cache of this folder; rebuilding it`);
    }
    return new HashCache(file, root, parsed.files, undefined);
  }

  /** Entries read from disk. */
  get size(): number {
    return Object.keys(this.previous).length;
  }

  /**
   * The cached hashes of `name` if its identity on disk is unchanged. A piece layer that does not hash
   * up to its root (a damaged cache) is not used: the file is hashed again.
   */
  lookup(name: string, identity: FileIdentity): CachedHashes | undefined {
    const entry = Object.hasOwn(this.previous, name) ? this.previous[name] : undefined;
    if (!entry || !sameIdentity(entry, identity)) return undefined;
    if (entry.size <= PRIVATE_KEY_SNIFF_BYTES && !entry.keysChecked) return undefined;
    const geometry = new PieceGeometry(entry.size);
    if (geometry.pieceCount === 1) return entry.layer === undefined ? { sha256: entry.sha256, root: entry.root } : undefined;
    if (entry.layer === undefined) return undefined;
    const layer = Buffer.from(entry.layer, 'base64');
    if (layer.length !== 32 * geometry.pieceCount) return undefined;
    if (geometry.rootOf(layerFromHex(layer.toString('hex'))).toString('hex') !== entry.root) return undefined;
    return { sha256: entry.sha256, root: entry.root, layer };
  }

  /** Writes the cache of `files` atomically (temp file, then rename). Failing to cache does not fail a share. */
  async save(files: Iterable<FileIdentity & CachedHashes & { name: string }>): Promise<string | undefined> {
    const entries: CacheFile['files'] = {};
    for (const { name, size, mtimeMs, ctimeMs, ino, sha256, root, layer } of files) {
      // Every file shared was looked at for a key: hashed now, or cached as looked at, or too big to be one.
      entries[name] = { size, mtimeMs, ctimeMs, ino, sha256, root, ...(layer && { layer: layer.toString('base64') }), keysChecked: true };
    }
    const content: CacheFile = { version: CACHE_VERSION, root: this.root, files: entries };
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeFileAtomically(this.file, JSON.stringify(content), 0o600);
      return undefined;
    } catch (error) {
      return `could not write hash cache ${this.file}: ${(error as Error).message}`;
    }
  }
}
