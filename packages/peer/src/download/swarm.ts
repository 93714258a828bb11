import { type ContentHolder, type ErrorCode, formatAddress, type HolderSession, P2PError, PieceHasher, RemoteError } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { ioError } from '../fs-errors.js';
import { sleep } from '../sleep.js';
import type { NetworkAccess } from '../tracker-access.js';
import type { PartFile } from './part-file.js';
import { PiecePlan, type Run } from './piece-plan.js';
import { type ActiveRun, BadPieceError, openHolder, Source, type SourceContext } from './source.js';
import { WholeHash } from './whole-hash.js';

/** Holders a download takes pieces from at once, unless told otherwise (PEER_MAX_SOURCES). */
export const DEFAULT_MAX_SOURCES = 4;

/** Largest run of pieces asked for in one request: big enough that one holder streams, small enough to share. */
const MAX_RUN_BYTES = 64 * 1024 * 1024;

/** Pieces up to this size are raced for in memory at the end; larger ones are only split between sources. */
const MAX_RACED_PIECE_BYTES = 16 * 1024 * 1024;

/** A holder left out of this download, and why. */
export interface HolderFailure {
  holder: string;
  code: ErrorCode;
  reason: string;
  /** It sent a piece (or a piece layer, or a piece tree) that does not match the content. */
  lied: boolean;
}

/** One holder's part in a download, for progress lines. */
export interface SourceProgress {
  holder: string;
  /** Bytes of verified pieces it sent. */
  bytes: number;
  /** Bytes per second over the last seconds. */
  rate: number;
}

export interface SwarmProgress {
  received: number;
  total: number;
  sources: SourceProgress[];
}

export interface SwarmOptions {
  access: NetworkAccess;
  logger: Logger;
  maxSources: number;
  stallMs: number;
  busyWaitMs: number;
  signal?: AbortSignal;
  onProgress?: (progress: SwarmProgress) => void;
  onWaiting?: (reason: string) => void;
  /** Asks the tracker once more for holders with the same root, when every known one failed. */
  moreHolders: () => Promise<ContentHolder[]>;
  failures: HolderFailures;
}

/** The holders that failed a download, in order, each named once. */
export class HolderFailures {
  readonly list: HolderFailure[] = [];
  constructor(private readonly onFailed?: (failure: HolderFailure) => void) {}

  has(holder: string): boolean {
    return this.list.some((f) => f.holder === holder);
  }

  add(failure: HolderFailure): void {
    if (this.has(failure.holder)) return;
    this.list.push(failure);
    this.onFailed?.(failure);
  }
}

/**
 * Conditions of our own (our disk, our target, our user) that no other holder can change: they end the
 * download. Everything else that happens while talking to a holder — whatever it sends, error frames
 * with any code included — is that holder failing, and the others carry on.
 */
const OWN_FAILURES: ReadonlySet<ErrorCode> = new Set(['IO_ERROR', 'TARGET_EXISTS', 'INTERRUPTED', 'BAD_CONFIG']);

export function isOwnFailure(error: unknown): boolean {
  if (!(error instanceof P2PError)) return true; // a bug of ours, not something to blame a holder for
  return !(error instanceof RemoteError) && OWN_FAILURES.has(error.code);
}

const failureOf = (holder: string, error: P2PError): HolderFailure => ({
  holder,
  code: error.code,
  reason: error instanceof RemoteError ? error.said : error.message,
  lied: error instanceof BadPieceError || /piece layer/.test(error.message),
});

/**
 * The piece layer of the content under `root`, from the first holder in `holders` that sends one that
 * hashes up to the root (a one-piece file's layer is its root). Holders that fail are noted.
 */
export async function fetchLayer(part: PartFile, holders: readonly ContentHolder[], root: string, options: SwarmOptions): Promise<Buffer[] | undefined> {
  if (part.geometry.pieceCount === 1) return [Buffer.from(root, 'hex')];
  for (const holder of holders) {
    if (options.signal?.aborted) throw new P2PError('INTERRUPTED', 'interrupted');
    const label = formatAddress(holder);
    let session: HolderSession | undefined;
    try {
      session = await openHolder(holder, options.access, options.stallMs);
      return await session.pieces(part.content.sha256, part.content.size, root);
    } catch (error) {
      if (isOwnFailure(error)) throw error;
      options.failures.add(failureOf(label, error as P2PError));
    } finally {
      session?.close().catch(() => undefined);
    }
  }
  return undefined;
}

/**
 * Checks, from disk, the pieces an earlier run left in the part: those that hash to their place in the
 * layer count as received; the others are fetched again.
 */
export async function verifyLeftBehind(part: PartFile, layer: readonly Buffer[], whole: WholeHash, pieces: readonly number[]): Promise<void> {
  const owner = {};
  for (const piece of pieces) {
    let hash: Buffer | undefined;
    const hasher = new PieceHasher(part.geometry, piece, (_index, h) => (hash = h));
    const bytes = await part.read(part.geometry.offsetOf(piece), part.geometry.lengthOf(piece)).catch((error: unknown) => {
      throw ioError(`cannot read ${part.paths.part}`, error);
    });
    const feeding = whole.claim(owner, piece);
    hasher.update(bytes);
    if (hash?.equals(layer[piece]!)) {
      if (feeding) whole.update(owner, bytes);
      whole.accept(owner);
      part.markVerified(piece);
    } else {
      whole.reject(owner);
    }
  }
}

/**
 * Fills the part from up to `maxSources` of `holders` at once: each source streams runs of pieces, a
 * faster one comes back for more sooner, and at the end an idle source takes half of a slower one's
 * remaining run, or races it for its last piece. A source that fails is replaced by the next holder;
 * a piece with the wrong hash drops its holder, and the good pieces stay. Resolves when every piece is
 * verified; throws when no holder is left, or on a failure of our own.
 */
export async function fillFromSwarm(part: PartFile, layer: readonly Buffer[], whole: WholeHash, holders: readonly ContentHolder[], options: SwarmOptions): Promise<Source[]> {
  const swarm = new Swarm(part, layer, whole, options);
  return swarm.run(holders);
}

class Swarm {
  private readonly plan: PiecePlan;
  private readonly context: SourceContext;
  private readonly stop = new AbortController();
  private ownError: unknown;
  private readonly queue: ContentHolder[] = [];
  private readonly sources: Source[] = [];
  private readonly runs = new Set<ActiveRun>();
  private readonly raced = new Set<number>();
  private working = 0;
  private wake: () => void = () => undefined;
  private changed: Promise<void> = Promise.resolve();
  private readonly busyUntil: number;

  constructor(
    private readonly part: PartFile,
    layer: readonly Buffer[],
    whole: WholeHash,
    private readonly options: SwarmOptions,
  ) {
    this.plan = new PiecePlan(part);
    this.busyUntil = Date.now() + options.busyWaitMs;
    this.resetChanged();
    this.context = {
      part,
      layer,
      whole,
      access: options.access,
      stallMs: options.stallMs,
      signal: this.stop.signal,
      onQueued: (holder, position) => options.onWaiting?.(`queued at ${holder}: position ${position}`),
      onChange: () => this.wake(),
    };
  }

  private resetChanged(): void {
    this.changed = new Promise((resolve) => (this.wake = resolve));
  }

  /** Waits for a piece to be verified or a stream to end (or a moment, whichever is first). */
  private async somethingChanged(): Promise<void> {
    await Promise.race([this.changed, sleep(250)]);
    this.resetChanged();
  }

  async run(holders: readonly ContentHolder[]): Promise<Source[]> {
    const onAbort = () => this.stop.abort();
    this.options.signal?.addEventListener('abort', onAbort);
    if (this.options.signal?.aborted) this.stop.abort();
    const progress = setInterval(() => this.report(), 100);
    try {
      this.queue.push(...holders);
      let askedAgain = false;
      for (;;) {
        const workers: Promise<void>[] = [];
        const startMore = () => {
          while (this.working < this.options.maxSources && this.queue.length > 0 && !this.part.isComplete) {
            this.working++;
            workers.push(this.work(this.queue.shift()!).finally(() => this.working--).then(startMore));
          }
        };
        startMore();
        // Replacements join `workers` while it is awaited: wait until no worker is left.
        for (let awaited = 0; awaited < workers.length; ) {
          const now = workers.length;
          await Promise.all(workers.slice(0, now));
          awaited = now;
        }
        if (this.ownError !== undefined) throw this.ownError;
        if (this.stop.signal.aborted) throw new P2PError('INTERRUPTED', 'interrupted');
        if (this.part.isComplete) return this.sources;
        if (askedAgain) return this.sources;
        askedAgain = true;
        const fresh = (await this.options.moreHolders()).filter((h) => !this.options.failures.has(formatAddress(h)));
        if (fresh.length === 0) return this.sources;
        this.queue.push(...fresh);
      }
    } finally {
      clearInterval(progress);
      this.options.signal?.removeEventListener('abort', onAbort);
      this.report();
    }
  }

  private report(): void {
    if (!this.options.onProgress) return;
    const { geometry } = this.part;
    let partial = 0;
    for (const run of this.runs) partial += run.position - geometry.offsetOf(Math.min(run.end - 1, Math.floor(run.position / geometry.pieceSize)));
    this.options.onProgress({
      received: Math.min(this.part.content.size, this.part.verifiedBytes + Math.max(0, partial)),
      total: this.part.content.size,
      sources: this.sources.filter((s) => s.bytes > 0 || s.active).map((s) => ({ holder: s.label, bytes: s.bytes, rate: s.rate })),
    });
  }

  /** How much one request asks for now: a share of what is left, so that every source gets some. */
  private runBytes(): number {
    const share = this.plan.missingBytes / (2 * Math.max(1, this.working));
    return Math.min(MAX_RUN_BYTES, Math.max(this.part.geometry.pieceSize, share));
  }

  /** One holder's loop: take work, fetch it, until nothing is left or the holder fails. */
  private async work(holder: ContentHolder): Promise<void> {
    const source = new Source(holder, this.context);
    this.sources.push(source);
    try {
      while (!this.part.isComplete && !this.stop.signal.aborted) {
        const run = this.plan.take(this.runBytes());
        if (run) {
          await this.fetch(source, run);
          continue;
        }
        if (!(await this.endGame(source))) {
          if (this.runs.size === 0) return;
          await this.somethingChanged();
        }
      }
    } catch (error) {
      if (this.stop.signal.aborted && !(error instanceof BadPieceError)) return;
      if (isOwnFailure(error)) {
        this.ownError ??= error;
        this.stop.abort();
        return;
      }
      const failure = error as P2PError;
      this.options.logger.debug({ holder: source.label, code: failure.code }, failure.message);
      this.options.failures.add(failureOf(source.label, failure));
    } finally {
      source.close();
    }
  }

  /** Fetches `run`, waiting in line for a busy holder while the busy wait lasts; gives back what it did not get. */
  private async fetch(source: Source, run: Run): Promise<void> {
    let active: ActiveRun | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await source.fetchRun(run, (a) => this.runs.add((active = a)));
          return;
        } catch (error) {
          if (!(error instanceof RemoteError && error.code === 'BUSY')) throw error;
          if (Date.now() >= this.busyUntil) throw new P2PError('BUSY', 'still busy, no upload slot came free');
          this.options.onWaiting?.(`waiting for a free upload slot at ${source.label}`);
          await sleep(Math.random() * Math.min(200 * 2 ** attempt, 2_000), this.stop.signal);
        } finally {
          if (active) this.runs.delete(active);
        }
      }
    } finally {
      this.plan.release(run.first, active?.end ?? run.end);
    }
  }

  /**
   * No piece is left to hand out: takes the second half of the slowest source's remaining run, or races
   * it for its last piece. False if there was nothing to take.
   */
  private async endGame(source: Source): Promise<boolean> {
    const { geometry } = this.part;
    const left = (run: ActiveRun) => geometry.offsetOf(run.end) - run.position;
    const others = [...this.runs].filter((r) => r.source !== source).sort((a, b) => left(b) - left(a));
    for (const slow of others) {
      const current = Math.min(slow.end - 1, Math.floor(slow.position / geometry.pieceSize));
      const after = slow.end - current - 1;
      if (after >= 1) {
        const cut = current + 1 + Math.floor(after / 2);
        const stolen = { first: cut, end: slow.end };
        slow.end = cut;
        await this.fetch(source, stolen);
        return true;
      }
      if (this.raced.has(current) || geometry.lengthOf(current) > MAX_RACED_PIECE_BYTES || this.part.isVerified(current)) continue;
      this.raced.add(current);
      await this.race(source, slow, current);
      return true;
    }
    return false;
  }

  /** Fetches `piece` into memory while `slow` streams it; the first to verify it wins, the other is cut. */
  private async race(source: Source, slow: ActiveRun, piece: number): Promise<void> {
    const bytes = await source.fetchPiece(piece);
    if (!bytes || this.part.isVerified(piece)) return;
    this.plan.pin(piece);
    try {
      slow.cut();
      await slow.settled;
      if (this.part.isVerified(piece)) return;
      await this.part.writeAt([bytes], this.part.geometry.offsetOf(piece)).catch((error: unknown) => {
        throw ioError(`cannot write ${this.part.paths.part}`, error);
      });
      this.part.markVerified(piece);
      source.bytes += bytes.length;
      this.context.whole.catchUp();
    } finally {
      this.plan.unpin(piece);
      this.wake();
    }
  }
}
