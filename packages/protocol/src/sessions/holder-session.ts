import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Address } from '../transport/address.js';
import { HELD_WAIT_MS, QUEUE_NOTICE_MS, REQUEST_TIMEOUT_MS } from '../core/constants.js';
import { P2PError } from '../core/errors.js';
import { remoteError } from '../wire/handshake.js';
import { type FileHeader, type HeldPieces, type HolderReply, HolderReply as HolderReplySchema, type HolderRequest, type Ticket } from '../wire/messages.js';
import { type ClientOptions, expectReply, RequestClient } from './request-client.js';
import type { Endpoint } from '../transport/address.js';
import { layerFromHex, PieceGeometry } from '../pieces/merkle.js';

/** How often a fetch in progress looks for a renewed ticket to give the holder (members networks). */
export const TICKET_CHECK_MS = 250;

/** A downloader's conversation with one holder: ask for content by sha256, receive its raw bytes. */
export class HolderSession extends RequestClient<HolderRequest, HolderReply> {
  /** Connects to a holder; given `holder.id` (as the tracker lists it), only that identity is accepted. */
  static async open(holder: Endpoint, options: ClientOptions = {}): Promise<HolderSession> {
    const socket = await RequestClient.openSocket(holder, options);
    return HolderSession.over(socket, holder, options);
  }

  /**
   * The conversation on a connection that is already open: one the holder opened itself because of a
   * connect request (README#connect-back), its opening frame read and its identity checked.
   */
  static async over(socket: Socket, holder: Address, options: ClientOptions = {}): Promise<HolderSession> {
    const session = new HolderSession(socket, HolderReplySchema, { host: holder.host, port: holder.port }, options);
    await session.handshake();
    await session.sendTicket();
    return session;
  }

  /** The ticket the holder has from us (members networks), to send a fresher one when there is one. */
  private ticketSent: Ticket | undefined;

  /**
   * Gives the holder our newest ticket if it has not got it yet (feature `members`): right after the
   * welcome, and before a request once the ticket was renewed. Unanswered, so it costs no round trip.
   */
  private async sendTicket(): Promise<void> {
    if (!this.supports('members')) return;
    const ticket = this.options.ticket?.();
    if (!ticket || ticket === this.ticketSent) return;
    this.ticketSent = ticket;
    await this.connection.send({ type: 'ticket', ticket });
  }

  /**
   * Asks for `length` bytes of `sha256` from `offset` on. Resolves with the holder's header and a stream
   * of exactly `length` raw bytes (it errors if the connection drops first). The header is checked to
   * describe what was asked; whether the bytes are right is for the caller to verify.
   */
  async fetch(sha256: string, offset: number, length: number, onQueued?: (position: number) => void): Promise<{ header: FileHeader; body: Readable }> {
    const timeoutMs = this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    await this.sendTicket();
    let reply = await this.request({ type: 'fetch', sha256, offset, length });
    // A busy holder keeps us in its queue, telling us our place until a slot is ours. It repeats itself
    // every QUEUE_NOTICE_MS, so waiting in line is never taken for a stall, whatever the request timeout.
    while (reply.type === 'queued') {
      onQueued?.(reply.position);
      reply = await this.connection.receive(Math.max(timeoutMs, 2 * QUEUE_NOTICE_MS));
      if (reply.type === 'error') throw remoteError(reply, this.label);
    }
    const header = expectReply(reply, 'file', this.label);
    if (header.sha256 !== sha256 || header.offset !== offset || header.length !== length || header.offset + header.length > header.size) {
      this.connection.destroy();
      throw new P2PError('HOLDER_FAILED', 'announced a different range than the one asked for');
    }
    const body = this.connection.readRaw(header.length);
    if (this.supports('members') && this.options.ticket) {
      // A long fetch outlives a ticket: the fresher one goes to the holder while the bytes stream.
      const timer = setInterval(() => void this.sendTicket().catch(() => undefined), TICKET_CHECK_MS);
      timer.unref();
      body.once('close', () => clearInterval(timer));
    }
    return { header, body };
  }

  /**
   * The pieces of `sha256` the holder has verified (feature `partial`): at once, or with `after`, once it
   * has more than `after` of them (at most HELD_WAIT_MS later). A bitfield of another length than
   * `pieceCount` pieces is the holder failing.
   */
  async held(sha256: string, pieceCount: number, after?: number): Promise<{ count: number; complete: boolean; bits: Uint8Array; fresh?: Uint8Array }> {
    if (!this.supports('partial')) throw new P2PError('UNEXPECTED_MESSAGE', `holder ${this.label} did not agree to feature partial`);
    await this.sendTicket();
    const timeoutMs = (this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) + (after === undefined ? 0 : HELD_WAIT_MS);
    const reply: HeldPieces = expectReply(await this.request({ type: 'held', sha256, ...(after !== undefined && { after }) }, timeoutMs), 'held_pieces', this.label);
    const bits = new Uint8Array(Buffer.from(reply.bitfield, 'base64'));
    const fresh = reply.fresh === undefined ? undefined : new Uint8Array(Buffer.from(reply.fresh, 'base64'));
    if (reply.sha256 !== sha256 || bits.length !== Math.ceil(pieceCount / 8) || reply.count > pieceCount || (fresh && fresh.length !== bits.length)) {
      throw new P2PError('HOLDER_FAILED', 'sent a list of pieces of another shape than the content\'s');
    }
    return { count: reply.count, complete: reply.complete, bits, ...(fresh && { fresh }) };
  }

  /**
   * The piece layer of content `sha256` of `size` bytes, checked against `root`: a layer of the wrong
   * shape, or one that does not hash up to the root, is the holder failing (HOLDER_FAILED).
   */
  async pieces(sha256: string, size: number, root: string): Promise<Buffer[]> {
    await this.sendTicket();
    const reply = expectReply(await this.request({ type: 'pieces', sha256 }), 'piece_layer', this.label);
    const geometry = new PieceGeometry(size);
    const layer = layerFromHex(reply.hashes);
    if (reply.sha256 !== sha256 || reply.root !== root || reply.pieceSize !== geometry.pieceSize || layer.length !== geometry.pieceCount) {
      throw new BadLayerError("sent a piece layer of another shape than the content's");
    }
    if (geometry.rootOf(layer).toString('hex') !== root) {
      throw new BadLayerError('sent a piece layer that does not hash up to the listed root');
    }
    return layer;
  }
}

/** A holder sent a piece layer that is not the content's: it lied about the content (HOLDER_FAILED). */
export class BadLayerError extends P2PError {
  override readonly name: string = 'BadLayerError';
  constructor(message: string) {
    super('HOLDER_FAILED', message);
  }
}
