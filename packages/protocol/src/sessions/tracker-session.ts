import { type Address, formatEndpoint } from '../transport/address.js';
import type { KnownTrackers } from './known-trackers.js';
import { IdentityMismatchError } from '../identity/mismatch.js';
import { DEFAULT_SEARCH_RESULTS, MAX_FILES_PER_REGISTER, MAX_FRAME_BYTES, MAX_LIST_PAGE, MAX_REQUEST_ID } from '../core/constants.js';
import { P2PError } from '../core/errors.js';
import { chunksWithin, fileEntryBytes, FrameBudget, jsonBytes, jsonStringBytes } from '../wire/frame-budget.js';
import {
  type ConnectNotice,
  type Content,
  type FileEntry,
  type ContentHolder,
  type HolderRecord,
  type ListCursor,
  type ListEntry,
  type SearchCursor,
  type Ticket,
  type TrackerReply,
  TrackerReply as TrackerReplySchema,
  type TrackerRequest,
  type WatchMatch,
} from '../wire/messages.js';
import { type ClientOptions, expectReply, RequestClient } from './request-client.js';
import type { Endpoint } from '../transport/address.js';

/** What to search for: a query in the query language, and filters given apart (size bounds ANDed with it, extensions added to its ext: list). */
export interface SearchRequest {
  query: string;
  minSize?: number;
  maxSize?: number;
  extensions?: string[];
}

export interface TrackerSessionOptions extends ClientOptions {
  /**
   * Trackers met before. A tracker address without an identity is then trusted on first use and
   * remembered; from then on that tracker must present the same identity (IDENTITY_MISMATCH otherwise).
   */
  knownTrackers?: KnownTrackers;
  /** Told when a tracker was trusted on first use (its identity was unknown and is now remembered). */
  onFirstUse?: (address: Address, id: string) => void;
}

/**
 * A peer's (or any tool's) conversation with a tracker over one long-lived connection.
 * The tracker keeps a registered share exactly as long as this connection stays open.
 * Shares and changes go out in chunks that each fit a frame, by count and by encoded size.
 */
export class TrackerSession extends RequestClient<TrackerRequest, TrackerReply> {
  /**
   * Connects to the tracker at `endpoint`. If the endpoint names the tracker's identity, only that
   * identity is accepted; if not, and `knownTrackers` is given, the remembered one is; if none is
   * remembered, the identity presented now is remembered for next time.
   */
  static async open(endpoint: Endpoint, options: TrackerSessionOptions = {}): Promise<TrackerSession> {
    const address = { host: endpoint.host, port: endpoint.port };
    const known = options.knownTrackers;
    const remembered = known ? await known.lookup(address) : undefined;
    const expected = endpoint.id ?? remembered;
    let socket;
    try {
      socket = await RequestClient.openSocket({ ...address, ...(expected && { id: expected }) }, options);
    } catch (error) {
      if (!(error instanceof IdentityMismatchError)) throw error;
      if (endpoint.id) throw error.from('address', "check the address with the tracker's operator");
      throw error.from('remembered', `if its operator gave it a new identity on purpose, accept it by naming it once, e.g. --tracker ${formatEndpoint({ ...address, id: error.presented })}`);
    }
    const session = new TrackerSession(socket, TrackerReplySchema, address, options);
    // Met for the first time, or named with a new identity on purpose: remember who it is now.
    if (known && session.serverId && session.serverId !== remembered) {
      await known.remember(address, session.serverId);
      if (!remembered && !endpoint.id) options.onFirstUse?.(address, session.serverId);
    }
    await session.handshake(endpoint.invite);
    return session;
  }

  /** A fresh ticket for the network's holders (feature `members`, on a members network). */
  async renewTicket(): Promise<Ticket> {
    return expectReply(await this.request({ type: 'renew_ticket' }), 'ticket', this.label).ticket;
  }

  /**
   * Publishes `files` as this connection's share (replacing any earlier one), in frame-sized chunks.
   * Afterwards `firewalled` says whether the tracker could reach `listenPort`.
   */
  async register(listenPort: number, files: readonly FileEntry[]): Promise<number> {
    // Sized with the largest id, since the id is chosen only when the frame is sent.
    const envelope = jsonBytes({ type: 'register', id: MAX_REQUEST_ID, listenPort, files: [], more: false });
    const chunks = [...chunksWithin(files, MAX_FILES_PER_REGISTER, MAX_FRAME_BYTES - envelope, fileEntryBytes)];
    let registered = 0;
    for (const [i, chunk] of chunks.entries()) {
      const reply = expectReply(await this.request({ type: 'register', listenPort, files: chunk, more: i < chunks.length - 1 }), 'registered', this.label);
      registered = reply.files;
      this.firewalled = reply.firewalled;
    }
    return registered;
  }

  /**
   * Why the tracker could not reach the listen port of the last registration, when it could not: the
   * share is then listed as firewalled, and downloaders reach it through connect-back.
   */
  firewalled: string | undefined;

  /**
   * Passes every `connect_notice` of this connection to `onNotice`, as it arrives (a firewalled share
   * must answer while it sends nothing itself).
   */
  onConnectNotice(onNotice: (notice: ConnectNotice) => void): void {
    this.followNotices((frame) => frame.type === 'connect_notice', (frame) => onNotice(frame as ConnectNotice));
  }

  /**
   * Passes every `watch_match` of this connection to `onMatch`, as it arrives (feature watch): files of a
   * share registered or changed on the tracker that match one of this connection's watches.
   */
  onWatchMatch(onMatch: (match: WatchMatch) => void): void {
    this.followNotices((frame) => frame.type === 'watch_match', (frame) => onMatch(frame as WatchMatch));
  }

  /** Has the tracker keep `search` for this connection (feature watch); resolves with the watch's number. */
  async watch(search: SearchRequest): Promise<number> {
    if (!this.supports('watch')) throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature watch`);
    return expectReply(await this.request({ type: 'watch', ...search }), 'watches', this.label).watch;
  }

  /** Ends watch `watch` of this connection; resolves with how many it still has. */
  async unwatch(watch: number): Promise<number> {
    return expectReply(await this.request({ type: 'unwatch', watch }), 'watches', this.label).count;
  }

  /** Asks the tracker to have firewalled `holder` connect to our `listenPort`; resolves with the connection's token. */
  async connectRequest(holder: HolderRecord, listenPort: number): Promise<string> {
    if (!this.supports('connect_back')) {
      throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature connect_back`);
    }
    const { host, port, id } = holder;
    const reply = await this.request({ type: 'connect_request', holder: { host, port, id, firewalled: true }, listenPort });
    return expectReply(reply, 'connect_relayed', this.label).token;
  }

  /** The online peers holding content `sha256`, whatever name they share it under. */
  async whoHasContent(sha256: string): Promise<ContentHolder[]> {
    if (!this.supports('who_has_content')) {
      throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature who_has_content`);
    }
    const reply = await this.request({ type: 'who_has_content', sha256 });
    return expectReply(reply, 'content_holders', this.label).holders;
  }

  /**
   * Offers content this peer is downloading (feature `partial`): it is listed as a partial holder at
   * `listenPort` until withdrawn or the connection ends. Resolves with the offer count and, if the tracker
   * lists it as firewalled, why.
   */
  async offer(listenPort: number, content: { sha256: string; size: number; root: string }): Promise<{ count: number; firewalled?: string }> {
    if (!this.supports('partial')) throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature partial`);
    const reply = expectReply(await this.request({ type: 'offer', listenPort, sha256: content.sha256, size: content.size, root: content.root }), 'offers', this.label);
    return { count: reply.count, ...(reply.firewalled !== undefined && { firewalled: reply.firewalled }) };
  }

  /** Ends the offer of `sha256` (feature `partial`); resolves with how many this connection still offers. */
  async withdraw(sha256: string): Promise<number> {
    return expectReply(await this.request({ type: 'withdraw', sha256 }), 'offers', this.label).count;
  }

  /** Applies changes to this connection's share, in frame-sized chunks. Returns the share's new size. */
  async update(added: readonly FileEntry[], removed: readonly string[]): Promise<number> {
    const envelope = jsonBytes({ type: 'update', id: MAX_REQUEST_ID, added: [], removed: [] });
    let files = 0;
    let a = 0;
    let r = 0;
    do {
      // Both arrays share one frame: additions first, then as many removals as still fit.
      const budget = new FrameBudget(MAX_FRAME_BYTES - envelope);
      const fromA = a;
      while (a < added.length && a - fromA < MAX_FILES_PER_REGISTER && budget.take(fileEntryBytes(added[a]!))) a++;
      const fromR = r;
      while (r < removed.length && r - fromR < MAX_FILES_PER_REGISTER && budget.take(jsonStringBytes(removed[r]!))) r++;
      if (a === fromA && r === fromR && (a < added.length || r < removed.length)) {
        throw new P2PError('FRAME_TOO_LARGE', 'one change does not fit a frame');
      }
      const reply = await this.request({ type: 'update', added: added.slice(fromA, a), removed: removed.slice(fromR, r) });
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

  /**
   * One page of one holder's own files (feature holder_files), in list order: `holder` is its HOST:PORT,
   * its identity or the start of it, or its member name. NOT_FOUND when no online holder (or several) is it.
   */
  async holderFilesPage(holder: string, after: ListCursor | null, limit = MAX_LIST_PAGE): Promise<{ holder: string; member?: string; files: ListEntry[]; next: ListCursor | null }> {
    if (!this.supports('holder_files')) {
      throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature holder_files`, 'it runs an older tracker: ask its operator to upgrade it');
    }
    const page = expectReply(await this.request({ type: 'holder_files', holder, after, limit }), 'holder_page', this.label);
    return { holder: page.holder, ...(page.member !== undefined && { member: page.member }), files: page.files, next: page.next };
  }

  /** One page of the files matching `search`, best first, starting after `after` (feature search). */
  async searchPage(search: SearchRequest, after: SearchCursor | null = null, limit = DEFAULT_SEARCH_RESULTS): Promise<{ files: ListEntry[]; next: SearchCursor | null }> {
    if (!this.supports('search')) {
      throw new P2PError('UNEXPECTED_MESSAGE', `tracker ${this.label} did not agree to feature search`, 'it runs an older tracker: ask its operator to upgrade it, or use list');
    }
    const reply = await this.request({ type: 'search', ...search, after, limit });
    const page = expectReply(reply, 'search_page', this.label);
    return { files: page.files, next: page.next };
  }

  /** The contents shared under `name`, each with the online peers that hold it. */
  /**
   * The contents shared under `name`, with their holders; with `sha256`, only that content, asked for
   * exactly where the tracker offers feature who_has_sha256 (else picked from the answer).
   */
  async whoHas(name: string, sha256?: string): Promise<Content[]> {
    const exact = sha256 !== undefined && this.supports('who_has_sha256');
    const reply = await this.request({ type: 'who_has', name, ...(exact && { sha256 }) });
    const { contents } = expectReply(reply, 'holders', this.label);
    return sha256 === undefined ? contents : contents.filter((content) => content.sha256 === sha256);
  }
}
