import type { Address } from './address.js';
import { MAX_FILES_PER_REGISTER, MAX_LIST_PAGE } from './constants.js';
import {
  type Content,
  type FileEntry,
  type HolderAddress,
  type ListCursor,
  type ListEntry,
  type TrackerReply,
  TrackerReply as TrackerReplySchema,
  type TrackerRequest,
} from './messages.js';
import { type ClientOptions, expectReply, RequestClient } from './request-client.js';

/**
 * A peer's (or any tool's) conversation with a tracker over one long-lived connection.
 * The tracker keeps a registered share exactly as long as this connection stays open.
 */
export class TrackerSession extends RequestClient<TrackerRequest, TrackerReply> {
  static async open(address: Address, options: ClientOptions = {}): Promise<TrackerSession> {
    const socket = await RequestClient.openSocket(address, options);
    const session = new TrackerSession(socket, TrackerReplySchema, address, options);
    await session.handshake();
    return session;
  }

  /** Publishes `files` as this connection's share (replacing any earlier one), in frame-sized chunks. */
  async register(listenPort: number, files: readonly FileEntry[]): Promise<number> {
    let registered = 0;
    for (let start = 0; start === 0 || start < files.length; start += MAX_FILES_PER_REGISTER) {
      const chunk = files.slice(start, start + MAX_FILES_PER_REGISTER);
      const more = start + MAX_FILES_PER_REGISTER < files.length;
      const reply = await this.request({ type: 'register', listenPort, files: chunk, more });
      registered = expectReply(reply, 'registered', this.label).files;
    }
    return registered;
  }

  /** The online peers holding content `sha256`, whatever name they share it under. */
  async whoHasContent(sha256: string): Promise<HolderAddress[]> {
    const reply = await this.request({ type: 'who_has_content', sha256 });
    return expectReply(reply, 'content_holders', this.label).holders;
  }

  /** Applies changes to this connection's share, in frame-sized chunks. Returns the share's new size. */
  async update(added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    let files = 0;
    let a = 0;
    let r = 0;
    do {
      const addedChunk = added.slice(a, a + MAX_FILES_PER_REGISTER);
      const removedChunk = removed.slice(r, r + MAX_FILES_PER_REGISTER);
      a += addedChunk.length;
      r += removedChunk.length;
      const reply = await this.request({ type: 'update', added: addedChunk, removed: removedChunk });
      files = expectReply(reply, 'updated', this.label).files;
    } while (a < added.length || r < removed.length);
    return files;
  }

  /** Shows the tracker this peer is alive; rejects if the tracker does not answer within `timeoutMs`. */
  async ping(timeoutMs?: number): Promise<void> {
    expectReply(await this.request({ type: 'ping' }, timeoutMs), 'pong', this.label);
  }

  /** One page of the network-wide list, in (name, sha256) order, starting after `after`. */
  async listPage(after: ListCursor | null, limit = MAX_LIST_PAGE): Promise<{ files: ListEntry[]; next: ListCursor | null }> {
    const reply = await this.request({ type: 'list', after, limit });
    const page = expectReply(reply, 'list_page', this.label);
    return { files: page.files, next: page.next };
  }

  /** Every file on the network, page by page. */
  async *list(pageSize = MAX_LIST_PAGE): AsyncGenerator<ListEntry> {
    let after: ListCursor | null = null;
    do {
      const page = await this.listPage(after, pageSize);
      yield* page.files;
      after = page.next;
    } while (after);
  }

  /** The contents shared under `name`, each with the online peers that hold it. */
  async whoHas(name: string): Promise<Content[]> {
    const reply = await this.request({ type: 'who_has', name });
    return expectReply(reply, 'holders', this.label).contents;
  }
}
