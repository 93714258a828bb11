import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ContentHolder,
  formatAddress,
  formatMs,
  HolderSession,
  IdentityMismatchError,
  P2PError,
  PieceHasher,
} from '@p2pservice/protocol';
import type { Readable } from 'node:stream';
import { AGENTS } from '../network/agents.js';
import { ioError } from '../util/fs-errors.js';
import { clientOptions, type NetworkAccess } from '../network/tracker-access.js';
import { connectBack } from '../network/connect-request.js';
import type { PartFile } from './part-file.js';
import type { Run } from './piece-plan.js';
import type { WholeHash } from './whole-hash.js';

/** What every source of one download shares. */
export interface SourceContext {
  part: PartFile;
  /** The piece layer, checked against the root: every piece is checked against it on arrival. */
  layer: readonly Buffer[];
  whole: WholeHash;
  access: NetworkAccess;
  stallMs: number;
  /** Aborted when the download stops (the user, or a failure of our own): every stream ends at once. */
  signal: AbortSignal;
  onQueued: (holder: string, position: number) => void;
  /** A piece was verified and written (or a stream ended): the swarm may have work to hand out. */
  onChange: () => void;
}

/**
 * Connects to a holder. It must prove the identity the tracker listed it with: another program on that
 * port is that holder failing, like any other.
 */
export async function openHolder(holder: ContentHolder, access: NetworkAccess, stallMs: number): Promise<HolderSession> {
  const options = { ...clientOptions(access, AGENTS.download), requestTimeoutMs: stallMs };
  // A firewalled holder cannot be dialled: it dials us, once a tracker passes our request on.
  if (holder.firewalled) return connectBack(holder, access, options, stallMs);
  return HolderSession.open(holder, options).catch((error: unknown) => {
    throw error instanceof IdentityMismatchError ? error.from('tracker') : error;
  });
}

/** A source stopped on purpose (its run was shortened, or another source won the race for a piece). */
export class CutError extends Error {
  constructor() {
    super('cut');
  }
}

/** A piece that did not hash to its place in the layer: the holder lied, and is named. */
export class BadPieceError extends P2PError {
  constructor(
    readonly piece: number,
    readonly holder: string,
  ) {
    super('HOLDER_FAILED', `sent piece ${piece} with the wrong hash`);
  }
}

/** A run being streamed now: other sources may shorten it (end-game), or cut it. */
export interface ActiveRun extends Run {
  source: Source;
  /** The byte offset of the next byte to be written. */
  position: number;
  cut(): void;
  /** Settles when the stream has stopped and its last write is done. */
  settled: Promise<void>;
}

/**
 * One holder of the content, as the swarm uses it: one connection (reopened after a cut), runs of
 * pieces streamed into the part at their offsets, each piece checked against the layer as its last byte
 * arrives. A holder sending a piece with the wrong hash ends with BadPieceError; the pieces it sent
 * before that stay.
 */
export class Source {
  readonly label: string;
  /** Bytes of verified pieces this holder sent. */
  bytes = 0;
  /** Bytes received recently, for the rate: [time, total] samples. */
  private samples: [number, number][] = [];
  /** Bytes that came from this holder, kept or not. */
  received = 0;
  private session: HolderSession | undefined;
  active: ActiveRun | undefined;

  constructor(
    readonly holder: ContentHolder,
    private readonly context: SourceContext,
  ) {
    this.label = formatAddress(holder);
  }

  /** Bytes per second over the last few seconds. */
  get rate(): number {
    const now = performance.now();
    this.samples = this.samples.filter(([at]) => now - at < 3_000);
    const first = this.samples[0];
    if (!first || now - first[0] < 200) return 0;
    return ((this.received - first[1]) * 1000) / (now - first[0]);
  }

  private count(bytes: number): void {
    this.received += bytes;
    const now = performance.now();
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last[0] > 100) this.samples.push([now, this.received]);
  }

  async open(): Promise<HolderSession> {
    if (this.session && !this.session.connection.isClosed) return this.session;
    this.session = await openHolder(this.holder, this.context.access, this.context.stallMs);
    return this.session;
  }

  close(): void {
    this.session?.close().catch(() => undefined);
    this.session = undefined;
  }

  private drop(): void {
    this.session?.connection.destroy();
    this.session = undefined;
  }

  /** Asks for the bytes of `run`; the body stream, after any wait in the holder's queue. */
  private async request(first: number, length: number): Promise<Readable> {
    const { part } = this.context;
    const session = await this.open();
    const { header, body } = await session.fetch(part.content.sha256, part.geometry.offsetOf(first), length, (position) =>
      this.context.onQueued(this.label, position),
    );
    if (header.size !== part.content.size) {
      body.destroy();
      throw new P2PError('HOLDER_FAILED', `announced ${header.size} bytes, the tracker listed ${part.content.size}`);
    }
    return body;
  }

  /**
   * Streams `run` into the part. Resolves when every piece of the run (as it may have been shortened
   * meanwhile) is verified, or the run was cut; throws if the holder failed.
   */
  async fetchRun(run: Run, register: (active: ActiveRun) => void): Promise<void> {
    const { part, layer, whole } = this.context;
    const { geometry } = part;
    const start = geometry.offsetOf(run.first);
    const length = geometry.offsetOf(run.end - 1) + geometry.lengthOf(run.end - 1) - start;
    let inflight: Promise<void> = Promise.resolve();
    let finishSettled!: () => void;
    const active: ActiveRun = {
      ...run,
      source: this,
      position: start,
      cut: () => body?.destroy(new CutError()),
      settled: new Promise((resolve) => (finishSettled = resolve)),
    };
    let body: Readable | undefined;
    this.active = active;
    register(active);
    const verdicts: { piece: number; ok: boolean }[] = [];
    const hasher = new PieceHasher(geometry, run.first, (piece, hash) => verdicts.push({ piece, ok: hash.equals(layer[piece]!) }));
    const endByte = () => geometry.offsetOf(active.end - 1) + geometry.lengthOf(active.end - 1);

    const sink = (chunks: Buffer[], callback: (error?: Error | null) => void): void => {
      const writeFrom = active.position;
      const toWrite: Buffer[] = [];
      let bad: number | undefined;
      let reachedEnd = false;
      for (const received of chunks) {
        this.count(received.length);
        let chunk = received;
        if (active.position + chunk.length >= endByte()) {
          chunk = chunk.subarray(0, Math.max(0, endByte() - active.position));
          reachedEnd = true;
        }
        // Cut at piece boundaries: nothing after a bad piece is written.
        while (chunk.length > 0 && bad === undefined) {
          const piece = Math.floor(active.position / geometry.pieceSize);
          const pieceEnd = geometry.offsetOf(piece) + geometry.lengthOf(piece);
          const segment = chunk.subarray(0, Math.min(chunk.length, pieceEnd - active.position));
          hasher.update(segment);
          toWrite.push(segment);
          active.position += segment.length;
          chunk = chunk.subarray(segment.length);
          const verdict = verdicts[verdicts.length - 1];
          if (verdict?.piece === piece && !verdict.ok) bad = piece;
        }
        if (bad !== undefined || reachedEnd) break;
      }
      inflight = part.writeAt(toWrite, writeFrom);
      inflight.then(
        () => {
          for (const { piece, ok } of verdicts.splice(0)) {
            if (!ok) continue;
            part.markVerified(piece);
            this.bytes += geometry.lengthOf(piece);
          }
          whole.advance();
          this.context.onChange();
          if (bad !== undefined) callback(new BadPieceError(bad, this.label));
          // A run shortened by another source ends here, before its body does: stop reading it.
          else if (reachedEnd && active.position === endByte() && endByte() < start + length) callback(new CutError());
          else callback();
        },
        (error) => callback(ioError(`cannot write ${part.paths.part}`, error)),
      );
    };

    let lastPosition = active.position;
    let lastProgress = Date.now();
    const watchdog = setInterval(
      () => {
        if (active.position !== lastPosition) {
          lastPosition = active.position;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress >= this.context.stallMs) {
          body?.destroy(new P2PError('HOLDER_FAILED', `stalled: no data for ${formatMs(this.context.stallMs)}`));
        }
      },
      Math.max(10, Math.floor(this.context.stallMs / 4)),
    );
    const onAbort = () => body?.destroy(new P2PError('INTERRUPTED', 'interrupted'));
    this.context.signal.addEventListener('abort', onAbort);
    let clean = false;
    try {
      body = await this.request(run.first, length);
      if (this.context.signal.aborted) onAbort();
      await pipeline(
        body,
        new Writable({
          highWaterMark: 1024 * 1024,
          writev: (chunks, callback) => sink(chunks.map((c) => c.chunk as Buffer), callback),
          write: (chunk: Buffer, _encoding, callback) => sink([chunk], callback),
        }),
      );
      clean = active.position === endByte();
      if (!clean) throw new P2PError('HOLDER_FAILED', `sent ${active.position - start} of the ${length} bytes asked for`);
    } catch (error) {
      if (error instanceof CutError) return;
      if (error instanceof P2PError) throw error;
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    } finally {
      clearInterval(watchdog);
      this.context.signal.removeEventListener('abort', onAbort);
      await inflight.catch(() => undefined);
      this.active = undefined;
      // A body abandoned half-way leaves the connection out of step: the next run opens a new one.
      if (!clean) this.drop();
      finishSettled();
      this.context.onChange();
    }
  }

  /**
   * Fetches one piece into memory (the end-game: racing a slower source for the last pieces). Resolves
   * with the verified bytes, or undefined if the piece got verified by another source first.
   */
  async fetchPiece(piece: number): Promise<Buffer | undefined> {
    const { part, layer } = this.context;
    const length = part.geometry.lengthOf(piece);
    const chunks: Buffer[] = [];
    let got = 0;
    let hash: Buffer | undefined;
    const hasher = new PieceHasher(part.geometry, piece, (_index, h) => (hash = h));
    let body: Readable | undefined;
    const onChange = setInterval(() => part.isVerified(piece) && body?.destroy(new CutError()), 20);
    const onAbort = () => body?.destroy(new P2PError('INTERRUPTED', 'interrupted'));
    this.context.signal.addEventListener('abort', onAbort);
    let clean = false;
    try {
      body = await this.request(piece, length);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        this.count(chunk.length);
        hasher.update(chunk);
        chunks.push(chunk);
        got += chunk.length;
      }
      clean = got === length;
      if (!clean || !hash) throw new P2PError('HOLDER_FAILED', `sent ${got} of the ${length} bytes asked for`);
      if (!hash.equals(layer[piece]!)) throw new BadPieceError(piece, this.label);
      return Buffer.concat(chunks, length);
    } catch (error) {
      if (error instanceof CutError) return undefined;
      if (error instanceof P2PError) throw error;
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    } finally {
      clearInterval(onChange);
      this.context.signal.removeEventListener('abort', onAbort);
      if (!clean) this.drop();
    }
  }
}
