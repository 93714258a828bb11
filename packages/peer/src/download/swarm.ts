import { type ContentHolder, formatAddress, P2PError, RemoteError } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { ioError } from '../util/fs-errors.js';
import { sleep } from '../util/sleep.js';
import type { NetworkAccess } from '../network/tracker-access.js';
import { failureOf, type HolderFailures, isOwnFailure } from './holder-failures.js';
import type { PartFile } from './part-file.js';
import { PieceAvailability } from './availability.js';
import type { PlayWindow } from './play-window.js';
import { PiecePlan, type Run } from './piece-plan.js';
import { type ActiveRun, BadPieceError, Source, type SourceContext } from './source.js';
import type { WholeHash } from './whole-hash.js';

/** Largest run of pieces asked of a lone holder in one request: it streams, with a request every 64 MiB. */
const MAX_RUN_BYTES = 64 * 1024 * 1024;

/**
 * Largest run asked of one of several holders: small enough that pieces arrive nearly in order (the
 * whole-file hash follows close behind, and a slow holder holds back little), large enough that a
 * request per run costs nothing (8 MiB is 160 ms at 50 MB/s).
 */
const MAX_SHARED_RUN_BYTES = 8 * 1024 * 1024;

/** A slower holder's run is split with an idle one only if it would take longer than this to finish. */
const SPLIT_WORTH_S = 0.5;

/**
 * Largest run asked of a complete holder while partial holders share the download (a LAN party): its
 * upload is the scarce one, and a short run shows sooner in the pieces others can fetch from us.
 */
const MAX_SEED_RUN_BYTES = 2 * 1024 * 1024;

/** How soon, and then how often, the tracker is asked for holders that joined (partial holders, mostly). */
const DISCOVER_AFTER_MS = [500, 1_000, 2_000];
const DISCOVER_EVERY_MS = 3_000;

/** How long without a verified piece before a seed is asked for pieces it already gave others (they may not share them with us). */
const FRESH_PATIENCE_MS = 2_000;

/** Pieces up to this size are raced for in memory at the end; larger ones are only split between sources. */
const MAX_RACED_PIECE_BYTES = 16 * 1024 * 1024;

/** One holder's part in a download, for progress lines. */
export interface SourceProgress {
  holder: string;
  /** The identity it proved (the tracker listed it with). */
  id: string;
  /** A partial holder: another downloader of the same content. */
  partial: boolean;
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
  /** Asks the tracker for the holders now (with the partial ones), to take on those that joined. */
  discover?: () => Promise<ContentHolder[]>;
  /**
   * Others may be downloading the same content and fetch from us (our download is offered): the first
   * runs are short, so that downloaders starting together soon learn of each other's pieces.
   */
  partyPossible?: boolean;
  failures: HolderFailures;
  /** A player's position in the file (peer ui's Play): its pieces are fetched first. */
  window?: PlayWindow;
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
  /** Holders met so far (queued, working, done or failed), by address: each is taken on once. */
  private readonly known = new Set<string>();
  /** Partial holders whose pieces we know, and how many of them have each piece. */
  private readonly partials: PieceAvailability;
  private readonly workers: Promise<void>[] = [];
  /** Runs taken in order (lowest missing first), for the growing first runs of a download others may share. */
  private runsTaken = 0;
  /** When the last piece was verified (performance.now()). */
  private lastNews = performance.now();
  /** The first run of a download others may share: a small part of the content (a piece at least). */
  private get firstRunBytes(): number {
    return Math.max(this.part.geometry.pieceSize, Math.min(MAX_SEED_RUN_BYTES, this.part.content.size / 32));
  }
  private finished = false;
  /** Aborted when the swarm stops, for whatever reason (the discovery's sleep ends with it). */
  private readonly done = new AbortController();
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
    this.plan = new PiecePlan(part, options.window);
    this.partials = new PieceAvailability(part.geometry.pieceCount);
    // However the download ends, partial holders waited on for more pieces are not waited on any more.
    this.stop.signal.addEventListener('abort', () => {
      this.stopWaiting();
      this.done.abort();
    });
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
      onChange: () => {
        this.lastNews = performance.now();
        this.wake();
        if (this.part.isComplete) this.stopWaiting();
      },
    };
  }

  private stopWaiting(): void {
    for (const source of this.sources) source.stopWaiting();
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
    const discovering = this.options.discover ? this.discover() : Promise.resolve();
    try {
      this.add(holders);
      let askedAgain = false;
      for (;;) {
        this.startMore();
        // Replacements (and holders found meanwhile) join `workers` while it is awaited: wait until no worker is left.
        for (let awaited = 0; awaited < this.workers.length; ) {
          const now = this.workers.length;
          await Promise.all(this.workers.slice(0, now));
          awaited = now;
        }
        if (this.ownError !== undefined) throw this.ownError;
        if (this.stop.signal.aborted) throw new P2PError('INTERRUPTED', 'interrupted');
        if (this.part.isComplete) return this.sources;
        if (askedAgain) return this.sources;
        askedAgain = true;
        const fresh = this.add(await this.options.moreHolders());
        if (fresh === 0) return this.sources;
      }
    } finally {
      this.finished = true;
      this.done.abort();
      this.wake();
      clearInterval(progress);
      this.options.signal?.removeEventListener('abort', onAbort);
      this.stopWaiting();
      await discovering;
      this.report();
    }
  }

  /** Queues the holders not met before and not failed; returns how many. */
  private add(holders: readonly ContentHolder[]): number {
    const fresh = holders.filter((holder) => {
      const label = formatAddress(holder);
      if (this.known.has(label) || this.options.failures.has(label)) return false;
      this.known.add(label);
      return true;
    });
    // Complete holders first: a partial one is worth more once the download has started.
    this.queue.push(...fresh.filter((h) => !h.partial), ...fresh.filter((h) => h.partial));
    return fresh.length;
  }

  /** Starts a worker for the next queued holder while fewer than `maxSources` work. */
  private startMore(): void {
    while (this.working < this.options.maxSources && this.queue.length > 0 && !this.part.isComplete && !this.finished) {
      this.working++;
      this.workers.push(
        this.work(this.queue.shift()!)
          .finally(() => this.working--)
          .then(() => this.startMore()),
      );
    }
  }

  /** Asks the tracker now and then for holders that joined (downloaders offering what they have), while the download runs. */
  private async discover(): Promise<void> {
    for (let round = 0; ; round++) {
      await sleep(DISCOVER_AFTER_MS[round] ?? DISCOVER_EVERY_MS, this.done.signal);
      if (this.finished || this.part.isComplete || this.stop.signal.aborted) return;
      const found = await this.options.discover!().catch(() => []);
      if (this.finished) return;
      if (this.add(found) > 0) this.startMore();
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
      sources: this.sources.filter((s) => s.bytes > 0 || s.active || s.held).map((s) => ({ holder: s.label, id: s.holder.id, partial: s.partial, bytes: s.bytes, rate: s.rate })),
    });
  }

  /** How much one request of `source` asks for now: a share of what is left, so that every source gets some. */
  private runBytes(source: Source): number {
    const share = this.plan.missingBytes / (2 * Math.max(1, this.working));
    let most = this.working > 1 ? MAX_SHARED_RUN_BYTES : MAX_RUN_BYTES;
    if (this.partials.size > 0 && !source.partial) most = MAX_SEED_RUN_BYTES;
    // Others may start the same download now and fetch the same first pieces from the same holder, until
    // each learns of the others: the first runs are short, then double (what they share costs little).
    else if (this.options.partyPossible) most = Math.min(most, this.firstRunBytes * 2 ** this.runsTaken);
    return Math.min(most, Math.max(this.part.geometry.pieceSize, share));
  }

  /**
   * The next run for `source`. Alone among complete holders, the lowest missing one (bytes arrive in
   * order, the whole-file hash follows without reading back); once partial holders share the download,
   * the rarest pieces first, and from a complete holder only those no partial holder has.
   */
  private take(source: Source): Run | undefined {
    const bytes = this.runBytes(source);
    if (this.partials.size > 0) {
      // Pieces a seed gave others come from them soon; unless nothing has come for a while (they may be
      // downloaders we do not know of, or gone), then they are taken from the seed again.
      const patient = !source.partial && performance.now() - this.lastNews < FRESH_PATIENCE_MS;
      return this.plan.takeRarest(bytes, (piece) => source.has(piece), this.partials.counts, !source.partial, patient ? (piece) => source.isFresh(piece) : undefined);
    }
    if (source.partial) return undefined;
    this.runsTaken++;
    return this.plan.take(bytes);
  }

  /** Asks a partial holder which pieces it has (with `after`: once it has more), and counts them in. */
  private async learn(source: Source, after?: number): Promise<void> {
    this.partials.learned(source, await source.learnHeld(after));
    this.wake();
  }

  /** One holder's loop: take work, fetch it, until nothing is left or the holder fails. */
  private async work(holder: ContentHolder): Promise<void> {
    const source = new Source(holder, this.context);
    this.sources.push(source);
    // Its connection goes back to the node's pool only when its loop ended with nothing in flight.
    let wentWell = false;
    try {
      while (!this.part.isComplete && !this.stop.signal.aborted) {
        if (source.partial && source.held === undefined) {
          await this.learn(source);
          continue;
        }
        // A seed says which pieces nobody asked it for yet, before each run while downloaders share the content.
        if (!source.partial && this.partials.size > 0) await source.learnFresh();
        const run = this.take(source);
        if (run) {
          await this.fetch(source, run);
          continue;
        }
        if (await this.endGame(source)) continue;
        // A partial holder is asked again once it has more; a complete one waits while others fetch.
        if (source.partial) await this.learn(source, source.heldCount);
        else if (this.runs.size === 0 && this.partials.size === 0) break;
        else await this.somethingChanged();
      }
      wentWell = true;
    } catch (error) {
      // A wait for more pieces ended because the download is complete, or the swarm stopped.
      if (this.part.isComplete || this.finished) return;
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
      this.partials.forget(source);
      source.close(wentWell);
    }
  }

  /** Fetches `run`, waiting in line for a busy holder while the busy wait lasts; gives back what it did not get. */
  private async fetch(source: Source, run: Run): Promise<void> {
    let active: ActiveRun | undefined;
    const started = performance.now();
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
      this.options.logger.debug({ holder: source.label, first: run.first, end: active?.end ?? run.end, ms: Math.round(performance.now() - started) }, 'run ended');
    }
  }

  /**
   * No piece is left to hand out: takes the second half of a lagging source's remaining run, or races a
   * much slower one for its last piece. False if there was nothing worth taking.
   */
  private async endGame(source: Source): Promise<boolean> {
    const { geometry } = this.part;
    const left = (run: ActiveRun) => geometry.offsetOf(run.end) - run.position;
    const others = [...this.runs].filter((r) => r.source !== source).sort((a, b) => left(b) - left(a));
    for (const slow of others) {
      const current = Math.min(slow.end - 1, Math.floor(slow.position / geometry.pieceSize));
      const after = slow.end - current - 1;
      // Cutting a run short wastes what its holder already sent down the socket: only worth it when that
      // holder would keep the download waiting a while, or has stopped (no rate yet, or none any more).
      const slowRate = slow.source.rate;
      const lagging = slowRate === 0 || left(slow) / slowRate > SPLIT_WORTH_S;
      const cut = current + 1 + Math.floor(after / 2);
      if (after >= 1 && lagging && this.hasAll(source, cut, slow.end)) {
        const stolen = { first: cut, end: slow.end };
        slow.end = cut;
        await this.fetch(source, stolen);
        return true;
      }
      const muchSlower = slowRate === 0 || 2 * slowRate < source.rate;
      if (!muchSlower || !source.has(current) || this.raced.has(current) || geometry.lengthOf(current) > MAX_RACED_PIECE_BYTES || this.part.isVerified(current)) continue;
      this.raced.add(current);
      await this.race(source, slow, current);
      return true;
    }
    return false;
  }

  private hasAll(source: Source, first: number, end: number): boolean {
    for (let piece = first; piece < end; piece++) if (!source.has(piece)) return false;
    return true;
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
      this.context.whole.advance();
    } finally {
      this.plan.unpin(piece);
      this.wake();
    }
  }
}
