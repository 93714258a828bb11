import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ContentHolder, formatAddress, formatMs, type HolderSession, P2PError, PieceHasher } from '@p2pservice/protocol';
import type { Readable } from 'node:stream';
import { ioError } from '../util/fs-errors.js';
import type { NetworkAccess } from '../network/tracker-access.js';
import { askUntilAnswered, connectHolder } from './holder-connection.js';
import type { PartFile } from './part-file.js';
import type { Run } from './piece-plan.js';
import type { WholeHash } from './whole-hash.js';
import { RunWriter, StagingSlots } from './run-writer.js';

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
 * pieces streamed into the part at their offsets through a RunWriter (staged, written and checked on the
 * hashing thread at once). A holder sending a piece with the wrong hash ends with BadPieceError; the
 * pieces it sent that check stay.
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
  /** Whether `session` was kept from an earlier download and has not answered here yet. */
  private keptUnanswered = false;
  /** A partial holder (feature `partial`): it has only the pieces it says it has (`held`). */
  readonly partial: boolean;
  /** The pieces a partial holder last said it has, one bit each; undefined until asked. */
  held: Uint8Array | undefined;
  /** How many pieces that was. */
  heldCount = 0;
  /** Set while waiting for a partial holder to have more pieces: ending it ends the wait. */
  private waitingFor: HolderSession | undefined;
  /** Where this source's runs are staged, made at its first run. */
  private staging: StagingSlots | undefined;
  active: ActiveRun | undefined;

  constructor(
    readonly holder: ContentHolder,
    private readonly context: SourceContext,
  ) {
    this.label = formatAddress(holder);
    this.partial = holder.partial === true;
  }

  /** Whether this holder has `piece`: every piece for a complete holder, those it said for a partial one. */
  has(piece: number): boolean {
    if (!this.partial) return true;
    return this.held !== undefined && ((this.held[piece >> 3]! >> (piece & 7)) & 1) === 1;
  }

  /**
   * Asks a partial holder which pieces it has: at once, or with `after`, once it has more than that (a
   * wait that `stopWaiting` ends early). Returns the bits it had before.
   */
  async learnHeld(after?: number): Promise<Uint8Array | undefined> {
    const { part } = this.context;
    const held = (session: HolderSession) => session.held(part.content.sha256, part.geometry.pieceCount, after);
    try {
      // A wait is asked on the connection as it is: stopWaiting ends it by closing that connection.
      const waitFor = async () => {
        const session = await this.open();
        this.waitingFor = session;
        return held(session);
      };
      const { bits, count } = after === undefined ? await this.ask(held) : await waitFor();
      const before = this.held;
      this.held = bits;
      this.heldCount = count;
      return before;
    } finally {
      this.waitingFor = undefined;
    }
  }

  /** From a complete holder that says so (feature `partial`): the pieces nobody asked it for yet. */
  fresh: Uint8Array | undefined;
  /** False once a complete holder turned out not to know `held` (an older one): it is not asked again. */
  private tellsFresh = true;

  /** Asks a complete holder which pieces nobody asked it for yet, where it can say (else `fresh` stays unset). */
  async learnFresh(): Promise<void> {
    if (!this.tellsFresh) return;
    const { part } = this.context;
    const fresh = await this.ask(async (session) => (session.supports('partial') ? (await session.held(part.content.sha256, part.geometry.pieceCount)).fresh : 'not told'));
    if (fresh === 'not told') this.tellsFresh = false;
    else this.fresh = fresh;
  }

  isFresh(piece: number): boolean {
    return this.fresh === undefined || ((this.fresh[piece >> 3]! >> (piece & 7)) & 1) === 1;
  }

  /** Ends a wait for more pieces (the download is complete): its connection is closed. */
  stopWaiting(): void {
    if (!this.waitingFor) return;
    this.waitingFor.connection.destroy();
    this.session = undefined;
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
    const { session, kept } = await connectHolder(this.holder, this.context.access, this.context.stallMs);
    this.session = session;
    this.keptUnanswered = kept;
    return session;
  }

  /** Asks `ask` on this holder's connection; a kept one the holder had let go is replaced (askUntilAnswered). */
  private async ask<T>(ask: (session: HolderSession) => Promise<T>): Promise<T> {
    const next = async () => {
      const session = await this.open();
      return { session, kept: this.keptUnanswered };
    };
    const { answer } = await askUntilAnswered(next, ask, (session) => {
      if (this.session === session) this.drop();
    });
    this.keptUnanswered = false;
    return answer;
  }

  /** Ends its connection: handed to the node's pool for the next download when this one ended well with it. */
  close(wentWell = false): void {
    const pool = this.context.access.holderPool;
    if (this.session && wentWell && pool) pool.give(this.holder, this.session);
    else this.session?.close().catch(() => undefined);
    this.session = undefined;
  }

  private drop(): void {
    this.session?.connection.destroy();
    this.session = undefined;
  }

  /** Asks for the bytes of `run`; the body stream, after any wait in the holder's queue. */
  private async request(first: number, length: number): Promise<Readable> {
    const { part } = this.context;
    const { header, body } = await this.ask((session) =>
      session.fetch(part.content.sha256, part.geometry.offsetOf(first), length, (position) => this.context.onQueued(this.label, position)),
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
    const { part, whole } = this.context;
    const { geometry } = part;
    const start = geometry.offsetOf(run.first);
    const length = geometry.offsetOf(run.end - 1) + geometry.lengthOf(run.end - 1) - start;
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
    const endByte = () => geometry.offsetOf(active.end - 1) + geometry.lengthOf(active.end - 1);
    this.staging ??= new StagingSlots(part);
    const writer = new RunWriter(part, whole, this.staging, {
      onVerified: (piece) => {
        if (part.isVerified(piece)) return;
        part.markVerified(piece);
        this.bytes += geometry.lengthOf(piece);
      },
      onSettled: () => {
        whole.advance();
        this.context.onChange();
      },
      badPiece: (piece) => new BadPieceError(piece, this.label),
      onFailure: (error) => body?.destroy(error as Error),
    });

    const sink = async (chunks: Buffer[]): Promise<void> => {
      for (const received of chunks) {
        this.count(received.length);
        const room = endByte() - active.position;
        const chunk = received.length > room ? received.subarray(0, Math.max(0, room)) : received;
        if (chunk.length > 0) {
          const at = active.position;
          active.position += chunk.length;
          await writer.put(chunk, at);
        }
        if (active.position >= endByte()) {
          writer.flush();
          // A run shortened by another source ends here, before its body does: stop reading it.
          if (endByte() < start + length) throw new CutError();
          return;
        }
      }
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
          writev: (chunks, callback) => sink(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback),
          write: (chunk: Buffer, _encoding, callback) => sink([chunk]).then(() => callback(), callback),
          final: (callback) => {
            writer.flush();
            writer.settled().then(() => callback(), callback);
          },
        }),
      );
      clean = active.position === endByte();
      if (!clean) throw new P2PError('HOLDER_FAILED', `sent ${active.position - start} of the ${length} bytes asked for`);
    } catch (error) {
      // The pieces of a shortened run still count once checked; one of them may yet turn out bad.
      if (error instanceof CutError) {
        writer.flush();
        return await writer.settled();
      }
      if (error instanceof P2PError) throw error;
      throw new P2PError('HOLDER_FAILED', `transfer broke off: ${(error as Error).message}`);
    } finally {
      clearInterval(watchdog);
      this.context.signal.removeEventListener('abort', onAbort);
      // Whatever whole pieces came before the stream broke off are checked and kept.
      writer.flush();
      await writer.settled().catch(() => undefined);
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
