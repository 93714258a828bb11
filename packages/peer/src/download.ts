import { link, lstat, mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type Address,
  baseName,
  type Content,
  formatAddress,
  formatMs,
  type HolderAddress,
  HolderSession,
  P2PError,
  quoted,
  sharedNameProblem,
  STALL_TIMEOUT_MS,
  TrackerSession,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { HOLDER_AGENT } from './file-server.js';
import { PartFile } from './part-file.js';
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
  /** Called when the download waits (busy holders, another download of the same file), saying why. */
  onWaiting?: (reason: string) => void;
  /** How long to keep retrying holders that answer BUSY (default BUSY_WAIT_MS). */
  busyWaitMs?: number;
  /** A holder that sends nothing for this long is left for the next one (default STALL_TIMEOUT_MS). */
  stallTimeoutMs?: number;
  /** Aborting keeps the partial download for a later resume and fails with INTERRUPTED. */
  signal?: AbortSignal;
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
    super('AMBIGUOUS', `${quoted(name)} is shared with ${contents.length} different contents`, 'pick one with --sha256 PREFIX');
  }
}

/** Asks the tracker who holds `name` and picks the one content to fetch. */
export async function resolveContent(tracker: Address, name: string, sha256Prefix?: string): Promise<Content> {
  const problem = sharedNameProblem(name);
  if (problem) throw new P2PError('BAD_CONFIG', `${quoted(name)} is not a valid file name: it ${problem}`, 'use a name as `peer list` shows it');
  const session = await TrackerSession.open(tracker, { agent: HOLDER_AGENT });
  let contents: Content[];
  try {
    contents = await session.whoHas(name);
  } finally {
    await session.close();
  }
  if (contents.length === 0) throw new P2PError('NOT_FOUND', `no holder of ${quoted(name)} is online`, 'check the name with `peer list`');
  const matching = sha256Prefix ? contents.filter((c) => c.sha256.startsWith(sha256Prefix)) : contents;
  if (matching.length === 0) {
    throw new P2PError('NOT_FOUND', `no content of ${quoted(name)} has a sha256 starting with ${sha256Prefix}`, 'see `peer list` for the hashes');
  }
  if (matching.length > 1) throw new AmbiguousNameError(name, matching);
  return matching[0]!;
}

/**
 * Downloads `name`: resolve it through the tracker, stream it from holders into a locked part file beside
 * the target while hashing, and move it into place only when size and sha256 match. A holder that fails
 * (refuses, drops, stalls, sends wrong bytes) is left for the next one, which continues where it stopped.
 * Whatever happens, nothing but a verified file ever appears at the target name; an unfinished download
 * keeps its part file for `peer get` to resume later.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const content = await resolveContent(options.tracker, options.name, options.sha256Prefix);
  return downloadContent(options, content);
}

export async function downloadContent(options: DownloadOptions, content: Content): Promise<DownloadResult> {
  const target = join(options.outDir, baseName(options.name));
  const present = { path: target, size: content.size, sha256: content.sha256, holder: null };
  if (await targetHasContent(target, content, options.force ?? false)) return present;
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw ioError(`cannot create folder ${options.outDir}`, error);
  }
  const part = await lockPart(target, content, options);
  if (!part) return present;
  let committed = false;
  try {
    const holder = await fillPart(part, content, options);
    await part.finish();
    await commit(part.paths.part, target, content, options.force ?? false);
    committed = true;
    await part.releaseAfterCommit();
    return { path: target, size: content.size, sha256: content.sha256, holder };
  } finally {
    if (!committed) await part.keep();
  }
}

/**
 * Locks the part file of this content in this folder. If another live process is downloading the same
 * content here, waits for it: returns `undefined` if it produced the file, or takes over if it gave up.
 */
async function lockPart(target: string, content: Content, options: DownloadOptions): Promise<PartFile | undefined> {
  for (;;) {
    const part = await PartFile.open(target, content);
    if (part instanceof PartFile) return part;
    options.onWaiting?.(`another download (pid ${part.heldBy}) is fetching this file into the same folder`);
    await sleep(100, options.signal);
    if (await targetHasContent(target, content, false).catch(() => false)) return undefined;
  }
}

/**
 * Fills the part from the holders until it holds the content, and returns the label of the holder that
 * finished it. A holder that dies or stalls leaves its bytes for the next one to continue from; a wrong
 * hash at the end throws the bytes away. BUSY holders are waited for. When every known holder has
 * failed, the tracker is asked once more for holders; then it gives up with one line per holder.
 */
async function fillPart(part: PartFile, content: Content, options: DownloadOptions): Promise<string> {
  if (part.isComplete()) return 'an earlier partial download';
  if (part.offset === content.size) await part.reset();
  const failures = new Map<string, string>();
  const busyUntil = Date.now() + (options.busyWaitMs ?? BUSY_WAIT_MS);
  let candidates = shuffled(content.holders);
  let askedTrackerAgain = false;
  let restartedFromZero = false;
  for (let round = 0; ; round++) {
    const busy: HolderAddress[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const holder = candidates[i]!;
      const label = formatAddress(holder);
      if (options.signal?.aborted) throw interrupted(part);
      const startedAt = part.offset;
      try {
        await fetchFrom(part, holder, options);
      } catch (error) {
        if (options.signal?.aborted) throw interrupted(part);
        if (!(error instanceof P2PError) || error.code === 'IO_ERROR') throw error;
        options.logger.debug({ holder: label, code: error.code, offset: part.offset }, error.message);
        if (error.code === 'BUSY') busy.push(holder);
        else failures.set(label, error.message.startsWith(label) ? error.message.slice(label.length + 2) : error.message);
        continue;
      }
      if (part.isComplete()) return label;
      // All bytes are there but the hash is wrong. If they came from several sources (a resume), we
      // cannot tell who lied: start over once, from zero, with this holder alone before blaming it.
      const mixed = startedAt > 0 || part.resumed;
      await part.reset();
      if (mixed && !restartedFromZero) {
        restartedFromZero = true;
        i--;
        continue;
      }
      failures.set(label, 'sent bytes whose sha256 does not match the listed one');
    }
    if (busy.length > 0 && Date.now() < busyUntil) {
      options.onWaiting?.(`waiting for a free upload slot (${busy.length} busy ${busy.length === 1 ? 'holder' : 'holders'})`);
      await sleep(Math.random() * Math.min(200 * 2 ** round, 2_000), options.signal);
      candidates = busy;
      continue;
    }
    for (const holder of busy) failures.set(formatAddress(holder), 'still busy, no upload slot came free');
    if (!askedTrackerAgain) {
      askedTrackerAgain = true;
      candidates = shuffled((await freshHolders(options, content)).filter((h) => !failures.has(formatAddress(h))));
      if (candidates.length > 0) continue;
    }
    const lines = [...failures].map(([label, reason]) => `\n  ${label}: ${reason}`).join('');
    const kept = part.offset > 0
      ? `${part.offset} of ${content.size} bytes are kept in ${part.paths.part}; run the same command later to resume`
      : 'try again later, or check `peer list`';
    throw new P2PError('HOLDER_FAILED', `every holder of ${quoted(options.name)} failed (${kept}):${lines}`);
  }
}

/**
 * The current holders of the same content, from a second look at the tracker: those sharing it under the
 * requested name, and those sharing the same bytes under any other name.
 */
async function freshHolders(options: DownloadOptions, content: Content): Promise<HolderAddress[]> {
  try {
    const session = await TrackerSession.open(options.tracker, { agent: HOLDER_AGENT });
    try {
      const byName = (await session.whoHas(options.name)).find((c) => c.sha256 === content.sha256 && c.size === content.size)?.holders ?? [];
      const byContent = await session.whoHasContent(content.sha256);
      const seen = new Set<string>();
      return [...byName, ...byContent].filter((h) => {
        const key = formatAddress(h);
        return seen.has(key) ? false : (seen.add(key), true);
      });
    } finally {
      await session.close();
    }
  } catch {
    return [];
  }
}

function interrupted(part: PartFile): P2PError {
  return new P2PError('INTERRUPTED', `interrupted; ${part.offset} of ${part.content.size} bytes are kept in ${part.paths.part}`, 'run the same command again to resume');
}

/**
 * Streams the rest of the content from one holder into the part, from the part's current length. Ends
 * normally only when the holder sent every byte it announced; a stall, a drop or too many bytes throw.
 */
async function fetchFrom(part: PartFile, holder: HolderAddress, options: DownloadOptions): Promise<void> {
  const label = formatAddress(holder);
  const stallMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
  const session = await HolderSession.open(holder, { agent: HOLDER_AGENT, requestTimeoutMs: stallMs });
  let ok = false;
  try {
    const { header, body } = await session.fetch(part.content.sha256, part.offset, (position) =>
      options.onWaiting?.(`queued at ${label}: position ${position}`),
    );
    if (header.size !== part.content.size) {
      body.destroy();
      throw new P2PError('HOLDER_FAILED', `announced ${header.size} bytes, the tracker listed ${part.content.size}`);
    }
    // Stall detection without a timer per chunk (a 1 GiB transfer has 16 000 of them): the part's offset
    // is sampled a few times per stall period, and a period without progress ends the transfer.
    let lastOffset = part.offset;
    let lastProgress = Date.now();
    const watchdog = setInterval(() => {
      if (part.offset !== lastOffset) {
        lastOffset = part.offset;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress >= stallMs) {
        body.destroy(new P2PError('HOLDER_FAILED', `stalled: no data for ${formatMs(stallMs)}`));
      }
    }, Math.max(10, Math.floor(stallMs / 4)));
    const onAbort = () => body.destroy(new P2PError('INTERRUPTED', 'interrupted'));
    options.signal?.addEventListener('abort', onAbort);
    let lastReport = 0;
    const report = (received: number) => {
      const now = Date.now();
      if (now - lastReport < 100 && received !== part.content.size) return;
      lastReport = now;
      options.onProgress?.({ name: options.name, holder: label, received, total: part.content.size });
    };
    try {
      await pipeline(body, part.writer(report));
    } catch (error) {
      if (error instanceof P2PError) throw error;
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    } finally {
      clearInterval(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      await part.idle();
    }
    ok = true;
  } finally {
    if (ok) await session.close().catch(() => undefined);
    else session.connection.destroy();
  }
}

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

/** Waits `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
