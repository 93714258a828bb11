import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { baseName, type Content, type ErrorCode, type HolderRecord, P2PError, quoted, RemoteError } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { ioError } from '../fs-errors.js';
import { sleep } from '../sleep.js';
import { fetchFrom, holderLabel } from './holder-fetch.js';
import { PartFile } from './part-file.js';
import { freshHolders, resolveContent } from './resolve.js';
import { commit, targetHasContent } from './target.js';
import type { NetworkAccess } from '../tracker-access.js';

export interface DownloadProgress {
  name: string;
  holder: string;
  received: number;
  total: number;
}

/** A holder left for the next one, and why. */
export interface HolderFailure {
  holder: string;
  code: ErrorCode;
  reason: string;
}

export interface DownloadOptions extends NetworkAccess {
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
  /** Called when a holder fails (and the download moves on to the next one, if any). */
  onHolderFailed?: (failure: HolderFailure) => void;
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

/**
 * Conditions of our own (our disk, our target, our user) that no other holder can change: they end the
 * download. Everything else that happens while talking to a holder — whatever it sends, error frames
 * with any code included — is that holder failing, and the next one is tried.
 */
const OWN_FAILURES: ReadonlySet<ErrorCode> = new Set(['IO_ERROR', 'TARGET_EXISTS', 'INTERRUPTED', 'BAD_CONFIG']);

function isOwnFailure(error: unknown): boolean {
  if (!(error instanceof P2PError)) return true; // a bug of ours, not something to blame a holder for
  return !(error instanceof RemoteError) && OWN_FAILURES.has(error.code);
}

/**
 * Downloads `name`: resolve it through the tracker, stream it from holders into a locked part file beside
 * the target while hashing, and move it into place only when size and sha256 match. A holder that fails
 * (refuses, drops, stalls, sends wrong bytes or an error) is left for the next one, which continues where
 * it stopped. Whatever happens, nothing but a verified file ever appears at the target name; an
 * unfinished download keeps its part file for `peer get` to resume later.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const content = await resolveContent(options, options.name, options.sha256Prefix);
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
    if (options.signal?.aborted) throw new P2PError('INTERRUPTED', 'interrupted while waiting for another download of the same file', 'run the same command again');
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
  const fail = (holder: string, code: ErrorCode, reason: string) => {
    failures.set(holder, reason);
    options.onHolderFailed?.({ holder, code, reason });
  };
  const busyUntil = Date.now() + (options.busyWaitMs ?? BUSY_WAIT_MS);
  let candidates = shuffled(content.holders);
  let askedTrackerAgain = false;
  let restartedFromZero = false;
  for (let round = 0; ; round++) {
    const busy: HolderRecord[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const holder = candidates[i]!;
      const label = holderLabel(holder);
      if (options.signal?.aborted) throw interrupted(part);
      const startedAt = part.offset;
      try {
        await fetchFrom(part, holder, {
          access: options,
          ...(options.stallTimeoutMs !== undefined && { stallTimeoutMs: options.stallTimeoutMs }),
          ...(options.signal && { signal: options.signal }),
          onBytes: (received) => options.onProgress?.({ name: options.name, holder: label, received, total: content.size }),
          onQueued: (position) => options.onWaiting?.(`queued at ${label}: position ${position}`),
        });
      } catch (error) {
        if (options.signal?.aborted) throw interrupted(part);
        if (isOwnFailure(error)) throw error;
        const failure = error as P2PError;
        options.logger.debug({ holder: label, code: failure.code, offset: part.offset }, failure.message);
        if (failure instanceof RemoteError && failure.code === 'BUSY') busy.push(holder);
        else fail(label, failure.code, failure instanceof RemoteError ? failure.said : failure.message);
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
      fail(label, 'HOLDER_FAILED', 'sent bytes whose sha256 does not match the listed one');
    }
    if (busy.length > 0 && Date.now() < busyUntil) {
      options.onWaiting?.(`waiting for a free upload slot (${busy.length} busy ${busy.length === 1 ? 'holder' : 'holders'})`);
      await sleep(Math.random() * Math.min(200 * 2 ** round, 2_000), options.signal);
      candidates = busy;
      continue;
    }
    for (const holder of busy) fail(holderLabel(holder), 'BUSY', 'still busy, no upload slot came free');
    if (!askedTrackerAgain) {
      askedTrackerAgain = true;
      candidates = shuffled((await freshHolders(options, options.name, content)).filter((h) => !failures.has(holderLabel(h))));
      if (candidates.length > 0) continue;
    }
    const lines = [...failures].map(([label, reason]) => `\n  ${label}: ${reason}`).join('');
    const kept = part.offset > 0
      ? `${part.offset} of ${content.size} bytes are kept in ${part.paths.part}; run the same command later to resume`
      : 'try again later, or check `peer list`';
    throw new P2PError('HOLDER_FAILED', `every holder of ${quoted(options.name)} failed (${kept}):${lines}`);
  }
}

function interrupted(part: PartFile): P2PError {
  return new P2PError('INTERRUPTED', `interrupted; ${part.offset} of ${part.content.size} bytes are kept in ${part.paths.part}`, 'run the same command again to resume');
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
