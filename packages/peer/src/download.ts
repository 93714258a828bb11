import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Address,
  baseName,
  type Content,
  formatAddress,
  type HolderAddress,
  HolderSession,
  P2PError,
  sharedNameProblem,
  TrackerSession,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { HOLDER_AGENT } from './file-server.js';
import { HandleWriter } from './file-io.js';
import { describeFsError, hashFile } from './share-index.js';

export interface DownloadProgress {
  name: string;
  holder: string;
  received: number;
  total: number;
}

export interface DownloadOptions {
  tracker: Address;
  name: string;
  /** Folder to save into (created if missing, once a holder is known). */
  outDir: string;
  /** Replace a different file at the target. */
  force?: boolean;
  /** Pick among several contents shared under one name. */
  sha256Prefix?: string;
  logger: Logger;
  onProgress?: (progress: DownloadProgress) => void;
  /** Called when every remaining holder answered BUSY and the download waits for a free slot. */
  onWaiting?: (busyHolders: number) => void;
  /** How long to keep retrying holders that answer BUSY (default BUSY_WAIT_MS). */
  busyWaitMs?: number;
}

/** How long a download waits for a busy holder's upload slot before giving up on it. */
export const BUSY_WAIT_MS = 120_000;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Where the bytes came from; null when the target already held this content. */
  holder: string | null;
}

/** Several contents share the requested name and none was picked: the caller lists them. */
export class AmbiguousNameError extends P2PError {
  constructor(
    name: string,
    readonly contents: Content[],
  ) {
    super('AMBIGUOUS', `"${name}" is shared with ${contents.length} different contents`, 'pick one with --sha256 PREFIX');
  }
}

/** Asks the tracker who holds `name` and picks the one content to fetch. */
export async function resolveContent(tracker: Address, name: string, sha256Prefix?: string): Promise<Content> {
  const problem = sharedNameProblem(name);
  if (problem) throw new P2PError('BAD_CONFIG', `"${name}" is not a valid file name: it ${problem}`, 'use a name as `peer list` shows it');
  const session = await TrackerSession.open(tracker, { agent: HOLDER_AGENT });
  let contents: Content[];
  try {
    contents = await session.whoHas(name);
  } finally {
    await session.close();
  }
  if (contents.length === 0) throw new P2PError('NOT_FOUND', `no holder of "${name}" is online`, 'check the name with `peer list`');
  const matching = sha256Prefix ? contents.filter((c) => c.sha256.startsWith(sha256Prefix)) : contents;
  if (matching.length === 0) {
    throw new P2PError('NOT_FOUND', `no content of "${name}" has a sha256 starting with ${sha256Prefix}`, 'see `peer list` for the hashes');
  }
  if (matching.length > 1) throw new AmbiguousNameError(name, matching);
  return matching[0]!;
}

/**
 * Downloads `name`: resolve it through the tracker, stream it from a holder into an exclusive temporary
 * file beside the target while hashing, and rename it into place only when size and sha256 match. A
 * holder that fails (refuses, drops, sends wrong bytes) is skipped for the next one. Whatever happens,
 * nothing but a verified file ever appears at the target name.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const content = await resolveContent(options.tracker, options.name, options.sha256Prefix);
  return downloadContent(options, content);
}

export async function downloadContent(options: DownloadOptions, content: Content): Promise<DownloadResult> {
  const target = join(options.outDir, baseName(options.name));
  if (await targetHasContent(target, content, options.force ?? false)) {
    return { path: target, size: content.size, sha256: content.sha256, holder: null };
  }
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw ioError(`cannot create folder ${options.outDir}`, error);
  }
  const temporary = join(options.outDir, `.${baseName(options.name)}.${randomBytes(6).toString('hex')}.part`);
  let handle: FileHandle;
  try {
    // 'wx' = O_CREAT|O_EXCL: never opens an existing file, nor follows a symlink planted at this name.
    handle = await open(temporary, 'wx', 0o644);
  } catch (error) {
    throw ioError(`cannot create ${temporary}`, error);
  }
  let committed = false;
  try {
    const failures: string[] = [];
    const waitUntil = Date.now() + (options.busyWaitMs ?? BUSY_WAIT_MS);
    let candidates = shuffled(content.holders);
    for (let round = 0; candidates.length > 0; round++) {
      const busy: HolderAddress[] = [];
      for (const holder of candidates) {
        const label = formatAddress(holder);
        try {
          await fetchInto(handle, holder, content, options);
          await handle.sync();
          await handle.close();
          await commit(temporary, target, content, options.force ?? false);
          committed = true;
          return { path: target, size: content.size, sha256: content.sha256, holder: label };
        } catch (error) {
          if (!(error instanceof P2PError) || error.code === 'IO_ERROR' || error.code === 'TARGET_EXISTS') throw error;
          options.logger.debug({ holder: label, code: error.code }, error.message);
          if (error.code === 'BUSY') busy.push(holder);
          else failures.push(error.message.startsWith(label) ? error.message : `${label}: ${error.message}`);
          await handle.truncate(0);
        }
      }
      // Busy holders are not failures: wait for a slot (backing off with jitter), up to the wait limit.
      if (busy.length === 0) break;
      if (Date.now() >= waitUntil) {
        failures.push(...busy.map((h) => `${formatAddress(h)}: still busy after ${Math.round((options.busyWaitMs ?? BUSY_WAIT_MS) / 1000)} s`));
        break;
      }
      options.onWaiting?.(busy.length);
      await sleep(Math.random() * Math.min(200 * 2 ** round, 2_000));
      candidates = busy;
    }
    throw new P2PError('HOLDER_FAILED', `every holder of "${options.name}" failed — ${failures.join('; ')}`, 'try again later, or check `peer list`');
  } finally {
    if (!committed) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * True if `target` already holds exactly `content`. Refuses (TARGET_EXISTS) if something else is there,
 * unless `force`; a symlink is never followed, only ever replaced.
 */
async function targetHasContent(target: string, content: Content, force: boolean): Promise<boolean> {
  let stats;
  try {
    stats = await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(`cannot inspect ${target}`, error);
  }
  if (stats.isFile() && stats.size === content.size) {
    const existing = await hashFile(target).catch(() => undefined);
    if (existing?.sha256 === content.sha256) return true;
  }
  if (force && !stats.isDirectory()) return false;
  const what = stats.isSymbolicLink() ? 'a symbolic link' : stats.isDirectory() ? 'a folder' : 'a different file';
  throw new P2PError('TARGET_EXISTS', `${target} already exists and is ${what}`, stats.isDirectory() ? 'choose another --out' : 'pass --force to replace it');
}

/** Streams the content from one holder into `handle` from byte 0, verifying count and hash. */
async function fetchInto(handle: FileHandle, holder: HolderAddress, content: Content, options: DownloadOptions): Promise<void> {
  const label = formatAddress(holder);
  const session = await HolderSession.open(holder, { agent: HOLDER_AGENT });
  try {
    const { header, body } = await session.fetch(content.sha256, 0);
    if (header.size !== content.size) {
      body.destroy();
      throw new P2PError('HOLDER_FAILED', `announced ${header.size} bytes, the tracker listed ${content.size}`);
    }
    const verifier = new VerifyingCounter(content.size, (received) =>
      options.onProgress?.({ name: options.name, holder: label, received, total: content.size }),
    );
    const sink = new HandleWriter(handle, 0);
    try {
      await pipeline(body, verifier, sink);
    } catch (error) {
      if (error instanceof P2PError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // errno codes (ENOSPC, EACCES, …) come from our disk; anything else is the transfer breaking.
      if (code && /^E[A-Z]+$/.test(code)) throw ioError('cannot write the download', error);
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    }
    if (verifier.digest() !== content.sha256) {
      throw new P2PError('HOLDER_FAILED', 'sent bytes whose sha256 does not match the listed one');
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** Passes bytes through while counting and hashing them; more bytes than expected is an error. */
class VerifyingCounter extends Transform {
  private readonly hash = createHash('sha256');
  private received = 0;
  private lastReport = 0;

  constructor(
    private readonly expected: number,
    private readonly report: (received: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.expected) {
      callback(new P2PError('HOLDER_FAILED', `sent more than the ${this.expected} bytes announced`));
      return;
    }
    this.hash.update(chunk);
    const now = Date.now();
    if (now - this.lastReport >= 100) {
      this.lastReport = now;
      this.report(this.received);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.report(this.received);
    if (this.received !== this.expected) {
      callback(new P2PError('HOLDER_FAILED', `sent ${this.received} of ${this.expected} bytes`));
      return;
    }
    callback();
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Moves the verified temporary file to its final name: without `force`, never over an existing file. */
async function commit(temporary: string, target: string, content: Content, force: boolean): Promise<void> {
  try {
    if (force) {
      await rename(temporary, target);
      return;
    }
    // link() fails with EEXIST instead of replacing: a file that appeared meanwhile is not clobbered.
    await link(temporary, target);
    await unlink(temporary);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // Another download of the same content into the same folder finished first: that is success.
      if ((await hashFile(target).catch(() => undefined))?.sha256 === content.sha256) {
        await unlink(temporary);
        return;
      }
      throw new P2PError('TARGET_EXISTS', `${target} appeared while downloading`, 'pass --force to replace it');
    }
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      // File systems without hard links: the existence check above is the best that remains.
      await rename(temporary, target);
      return;
    }
    throw ioError(`cannot move the download to ${target}`, error);
  }
}

function ioError(what: string, error: unknown): P2PError {
  if (error instanceof P2PError) return error;
  return new P2PError('IO_ERROR', `${what}: ${describeFsError(error)}`, 'check the folder, its permissions and free space', { cause: error });
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
