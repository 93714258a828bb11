import { EventEmitter } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import {
  type Content,
  DEFAULT_SEARCH_RESULTS,
  MAX_SEARCH_PAGE,
  type Endpoint,
  formatAddress,
  folderDigest,
  formatContentLink,
  formatFolderLink,
  formatLink,
  formatNetworkKey,
  type LinkedContent,
  type Identity,
  type KnownTrackers,
  type ListCursor,
  type ListEntry,
  P2PError,
  parseSearchQuery,
  quoted,
  type SearchCursor,
  type SearchRequest,
  tlsTransport,
  type TrackerSession,
  type Transport,
} from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { AGENTS } from './network/agents.js';
import { ConnectBackService } from './connect-back/service.js';
import { download, downloadContent, type DownloadOptions, type DownloadResult } from './download/download.js';
import { resolveContent, resolveLinkedContent } from './download/resolve.js';
import { downloadFolder, folderFileDir, folderFiles, type FolderProgress, folderPrefix, type FolderResult } from './download/folder.js';
import type { DownloadState, PeerNodeEvents, ShareState, TrackerInfo } from './node-events.js';
import { HolderPool } from './network/holder-pool.js';
import { KeptTrackerSession } from './network/kept-tracker-session.js';
import { TrackerWatches } from './network/tracker-watches.js';
import type { WatchLinkOptions } from './network/watch-link.js';
import { MemberTickets } from './network/member-tickets.js';
import { askTracker, type NetworkAccess, openTracker, trackersLabel, trackersOf } from './network/tracker-access.js';
import { type ShareOptions, ShareSession } from './share/share-session.js';
import { type PartOffer, PartySession } from './party/party-session.js';
import type { PartFile } from './download/part-file.js';
import type { PlayWindow } from './download/play-window.js';

/** Settings of every share the node starts (an option left undefined is the share's default). */
type ShareSettings = Omit<ShareOptions, 'dir' | 'port' | 'logger' | 'onIndexProgress' | 'onWarning' | 'onStatus' | keyof NetworkAccess>;

export interface PeerNodeOptions extends ShareSettings, Pick<DownloadOptions, 'stallTimeoutMs' | 'busyWaitMs' | 'maxSources'> {
  /**
   * The network's tracker, or its several trackers (parsed with parseEndpointList), each optionally
   * pinned to its identity (`HOST:PORT#ID`). Reads go to one at random and fail over to the next.
   */
  tracker: Endpoint | readonly Endpoint[];
  logger: Logger;
  /** This peer's identity: presented in TLS to the tracker (which lists the node's shares under it) and to downloaders. */
  identity?: Identity;
  /** Instead of TLS with `identity`: another transport (benchmarks, tests). One of the two is needed. */
  transport?: Transport;
  /** The key of a private network. */
  networkKey?: Buffer;
  /** Trackers met before (trust on first use); without it, an address without an identity is not pinned. */
  knownTrackers?: KnownTrackers;
  /** Address and port shares listen on for other peers (default: every address, IPv6 and IPv4; port 0: a random free one). */
  host?: string;
  port?: number;
  /**
   * Serve the verified pieces of each download to others downloading the same content, and offer it to
   * the tracker (feature `partial`; default true when the node has an identity). PEER_SERVE_DOWNLOADS.
   */
  serveDownloads?: boolean;
  /** The port downloads are served on (default 0, any free one; `peer get` passes PEER_PORT, as it shares nothing). */
  downloadPort?: number;
  /** Keep serving finished downloads until the node closes (`peer get --seed`), instead of only while they run. */
  seed?: boolean;
}

export interface DownloadRequest {
  name: string;
  outDir: string;
  force?: boolean;
  /** Pick among several contents under one name by a prefix of their sha256. */
  sha256Prefix?: string;
  /** The exact content, when the caller resolved it already (e.g. picked from a list). */
  content?: Content;
  /** A player's position (peer ui's Play): those pieces are fetched first. */
  window?: PlayWindow;
  /** Told the part file once it is locked (what a player reads verified pieces from). */
  onPart?: (part: PartFile) => void;
  /** Folders already cleared of dead lock asides (one set for all the files of a folder download). */
  sweptFolders?: Set<string>;
}

/** Finished downloads kept in `downloads()`, newest last. */
const DOWNLOAD_HISTORY = 100;

interface ShareEntry {
  state: ShareState;
  session: ShareSession;
}

/**
 * A peer: the folders it shares and the downloads it runs, their state, and events for every change.
 * The CLI, the menu and (next) the web UI are faces over this one object; none of them shares or
 * downloads by itself.
 */
export class PeerNode extends EventEmitter<PeerNodeEvents> {
  private readonly sharesById = new Map<number, ShareEntry>();
  /** Folders being indexed for a share that has not started yet. */
  private readonly starting = new Set<string>();
  /** `share` calls under way: a close waits for them (each stops its share if the node is closing). */
  private readonly starts = new Set<Promise<unknown>>();
  private readonly downloadsById = new Map<number, { state: DownloadState; abort: AbortController }>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private readonly access: NetworkAccess;
  /** Lists and searches ask on one session kept open between them (the page asks many in a row). */
  private readonly questions: KeptTrackerSession;
  /** What the node last learned of its tracker (on its last connection to it). */
  trackerInfo: TrackerInfo | undefined;
  /** Where downloads are served to others (LAN party), started with the first download. */
  private party: Promise<PartySession | undefined> | undefined;

  constructor(readonly options: PeerNodeOptions) {
    super();
    // Without an identity the node can list and download (TLS, no client certificate), not share.
    const transport = options.transport ?? tlsTransport(options.identity ? { identity: options.identity } : {});
    this.access = {
      tracker: options.tracker,
      transport,
      networkKey: options.networkKey,
      knownTrackers: options.knownTrackers,
      onTrackerTrusted: (address, id) => this.emit('tracker-trusted', formatAddress(address), id),
      host: options.host,
      port: options.port,
      connectBack: new ConnectBackService({ transport, host: options.host, port: options.port }),
      tickets: new MemberTickets(() => askTracker(this.access, AGENTS.download, (session) => session.renewTicket())),
      holderPool: new HolderPool(),
    };
    this.questions = new KeptTrackerSession(this.access, AGENTS.browse);
  }

  /** The tracker, or the trackers, as HOST:PORT (comma-separated); empty before one is chosen. */
  get tracker(): string {
    return trackersLabel(this.access);
  }

  /** Whether the node has a tracker: one started with none (`tracker: []`) gets it from useTracker. */
  get hasTracker(): boolean {
    return trackersOf(this.access).length > 0;
  }

  /**
   * Gives a node started without a tracker its tracker (and the key a join link carried): `peer ui` on a
   * LAN where none or several answered, once the person picks one in the page. Once only: moving a
   * running node to another network would leave its shares and downloads on the old one.
   */
  useTracker(tracker: readonly Endpoint[], networkKey?: Buffer): void {
    if (this.sharesById.size > 0 || this.downloadsById.size > 0) {
      throw new P2PError('BAD_CONFIG', `this peer shares or downloads through tracker ${this.tracker} already`, 'to use another network, restart it with --tracker');
    }
    if (tracker.length === 0) throw new P2PError('BAD_CONFIG', 'no tracker given', 'a join link, or HOST:PORT#IDENTITY');
    this.access.tracker = tracker;
    this.access.networkKey = networkKey ?? this.options.networkKey;
    this.trackerInfo = undefined;
  }

  /**
   * useTracker, then a first connection (redeeming a link's invite): on success the choice holds and is
   * told ('tracker-chosen'); on failure it is undone, so that another can be chosen.
   */
  async chooseTracker(tracker: readonly Endpoint[], networkKey?: Buffer): Promise<TrackerInfo> {
    this.useTracker(tracker, networkKey);
    try {
      const info = await this.join();
      this.emit('tracker-chosen', this.tracker);
      return info;
    } catch (error) {
      if (this.sharesById.size === 0 && this.downloadsById.size === 0) {
        this.access.tracker = [];
        this.access.networkKey = this.options.networkKey;
        this.trackerInfo = undefined;
      }
      throw error;
    }
  }

  /** Whether one of this node's shares holds the content `sha256`. */
  sharesContent(sha256: string): boolean {
    return [...this.sharesById.values()].some((entry) => entry.session.index.find(sha256) !== undefined);
  }

  /** Whether this node proves a network key (a private network's). */
  get hasNetworkKey(): boolean {
    return this.access.networkKey !== undefined;
  }

  /**
   * The join link of the network this node is on, for others (the page's QR code): its tracker with the
   * identity it proved, and on a private network the key. Undefined before the first connection, and on
   * a members network, where each newcomer needs an invite of their own.
   */
  joinLink(): string | undefined {
    const [first] = trackersOf(this.access);
    const info = this.trackerInfo;
    const id = info?.id ?? first?.id;
    if (!first || !info || !id || info.network === 'members') return undefined;
    const key = info.network === 'private' && this.access.networkKey ? formatNetworkKey(this.access.networkKey) : undefined;
    return formatLink({ host: first.host, port: first.port, id, ...(key && { key }) });
  }

  /** On a members network, the name this peer is a member under, as its tracker last said. */
  get memberName(): string | undefined {
    return this.trackerInfo?.member ?? [...this.sharesById.values()].map((entry) => entry.session.memberName).find((name) => name !== undefined);
  }

  /** This peer's identity, if it runs on TLS with one. */
  get identity(): string | undefined {
    return this.options.identity?.id;
  }

  shares(): ShareState[] {
    return [...this.sharesById.values()].map((entry) => this.snapshot(entry));
  }

  downloads(): DownloadState[] {
    return [...this.downloadsById.values()].map(({ state }) => copy(state));
  }

  /** True if `dir` (however it is spelled) is shared already. */
  isSharing(dir: string): boolean {
    const wanted = resolvePath(dir);
    return this.starting.has(wanted) || [...this.sharesById.values()].some((entry) => resolvePath(entry.state.dir) === wanted || entry.state.root === wanted);
  }

  /**
   * Indexes `dir`, serves it and registers it with the tracker. Resolves once it is listed; from then on
   * it follows changes to the folder and reconnects to a lost tracker by itself, until stopped.
   */
  share(dir: string): Promise<ShareState> {
    const started = this.startShare(dir);
    const tracked = started.catch(() => undefined);
    this.starts.add(tracked);
    void tracked.then(() => this.starts.delete(tracked));
    return started;
  }

  private async startShare(dir: string): Promise<ShareState> {
    this.assertOpen();
    if (!this.options.identity && !this.options.transport) throw new P2PError('BAD_CONFIG', 'sharing needs an identity for this peer');
    if (this.isSharing(dir)) throw new P2PError('BAD_CONFIG', `already sharing ${quoted(dir)}`);
    const id = this.nextId++;
    let entry: ShareEntry | undefined;
    const { options } = this;
    this.starting.add(resolvePath(dir));
    const session = await ShareSession.start({
      ...options,
      ...this.access,
      dir,
      port: options.port ?? 0,
      onIndexProgress: (progress) => this.emit('share-indexing', dir, { ...progress }),
      onWarning: (line) => this.emit('warning', line),
      onStatus: (status) => {
        if (!entry) return;
        const share = this.snapshot(entry);
        if (status.kind === 'folder-changed') this.emit('share-updated', share, { added: status.added, removed: status.removed });
        else if (status.kind === 'tracker-back') this.emit('tracker-back', share, status.previous);
        else this.emit('tracker-lost', share, { attempt: status.attempt, retryInMs: status.retryInMs, reason: status.reason, refused: status.refused });
      },
    }).finally(() => this.starting.delete(resolvePath(dir)));
    const started: ShareEntry = {
      session,
      state: { id, dir, root: session.index.root, files: 0, bytes: 0, port: session.port, tracker: session.trackerLabel, connected: true, network: 'open', skipped: [...session.index.skipped] },
    };
    entry = started;
    this.sharesById.set(id, started);
    // A close that began while the folder was being indexed still stops it.
    if (this.closing) {
      await this.stopShare(id);
      throw new P2PError('INTERRUPTED', 'the peer is shutting down');
    }
    const state = this.snapshot(started);
    this.emit('share-started', state);
    return state;
  }

  /** Stops sharing: says goodbye to the tracker (the files leave the list at once) and stops serving. */
  async stopShare(id: number): Promise<void> {
    const entry = this.sharesById.get(id);
    if (!entry) throw new P2PError('NOT_FOUND', `no share with id ${id}`);
    this.sharesById.delete(id);
    await entry.session.stop();
    this.emit('share-stopped', { ...this.snapshot(entry), connected: false });
  }

  /** Waits until changes to the shared folders noticed so far have reached the tracker. */
  async settled(): Promise<void> {
    await Promise.all([...this.sharesById.values()].map((entry) => entry.session.settled()));
  }

  /**
   * Connects to the network's tracker once, and says what it is: on a members network, with an invite in
   * the tracker's link, this is what makes this peer a member.
   */
  async join(): Promise<TrackerInfo> {
    await askTracker(this.access, AGENTS.browse, async (session) => this.sawTracker(session));
    return { ...this.trackerInfo! };
  }

  /** Every file on the network, page by page. */
  async *list(): AsyncGenerator<ListEntry> {
    const session = await openTracker(this.access, AGENTS.list);
    try {
      this.sawTracker(session);
      yield* session.list();
    } finally {
      await session.close();
    }
  }

  /**
   * Every file one holder shares, page by page (browsing a user): `holder` is its HOST:PORT as downloads
   * name it, its identity or the start of it, or its member name. `found` hears who it is, once, before
   * the first file. NOT_FOUND, with a hint, when no online holder (or several) is it.
   */
  async *holderFiles(holder: string, found: (who: { holder: string; member?: string }) => void = () => undefined): AsyncGenerator<ListEntry> {
    const session = await openTracker(this.access, AGENTS.list);
    try {
      this.sawTracker(session);
      let after: ListCursor | null = null;
      let first = true;
      do {
        const page = await session.holderFilesPage(holder, after);
        if (first) found({ holder: page.holder, ...(page.member !== undefined && { member: page.member }) });
        first = false;
        yield* page.files;
        after = page.next;
      } while (after);
    } finally {
      await session.close();
    }
  }

  /** One page of the network's list, after `after` (null: the first page), for faces that page. */
  async listPage(after: ListCursor | null, limit: number): Promise<{ files: ListEntry[]; next: ListCursor | null }> {
    return this.questions.ask(async (session) => {
      this.sawTracker(session);
      return session.listPage(after, limit);
    });
  }

  /**
   * Connections on which the trackers watch searches and tell of new matches (the wishlist), one per
   * tracker of the network; undefined when none can (older ones) or none can be reached now.
   */
  watchSearches(handlers: Pick<WatchLinkOptions, 'onMatch' | 'onBack'>): Promise<TrackerWatches | undefined> {
    const { options } = this;
    return TrackerWatches.open({ ...this.access, ...handlers, logger: options.logger, reconnectBaseDelayMs: options.reconnectBaseDelayMs, reconnectMaxDelayMs: options.reconnectMaxDelayMs });
  }

  /**
   * The first `limit` files matching a search, best first (the query language: protocol README#search).
   * The query is checked here before any connection, so a mistyped one fails with its hint.
   */
  async search(request: SearchRequest, limit = DEFAULT_SEARCH_RESULTS): Promise<ListEntry[]> {
    parseSearchQuery(request.query, request);
    return this.questions.ask(async (session) => {
      this.sawTracker(session);
      const found: ListEntry[] = [];
      let after: SearchCursor | null = null;
      do {
        const page = await session.searchPage(request, after, Math.min(limit - found.length, MAX_SEARCH_PAGE));
        found.push(...page.files);
        after = page.next;
      } while (after && found.length < limit);
      return found;
    });
  }

  /** The one content shared under `name` (AmbiguousNameError lists them when there are several). */
  resolve(name: string, sha256Prefix?: string): Promise<Content> {
    return resolveContent(this.access, name, sha256Prefix);
  }
  /**
   * Downloads every file under a folder of the network (`Music/Abbey Road/`), keeping its structure under
   * `outDir`, a few at once, each verified and resumable as any download: the folder of `peer get DIR/`.
   */
  async downloadFolder(
    request: { path: string; outDir: string; force?: boolean; platform?: NodeJS.Platform },
    signal?: AbortSignal,
    on: { saved?: (name: string, result: DownloadResult) => void; progress?: (progress: FolderProgress) => void } = {},
  ): Promise<FolderResult> {
    this.assertOpen();
    const prefix = folderPrefix(request.path);
    const { files, ambiguous } = await folderFiles(this.list(), prefix);
    const sweptFolders = new Set<string>();
    return downloadFolder({
      prefix,
      files,
      ambiguous,
      ...(signal && { signal }),
      ...(on.saved && { onSaved: on.saved }),
      ...(on.progress && { onProgress: on.progress }),
      downloadOne: async (file) => {
        // Its holders asked on the session kept for questions: one tracker connection for the whole folder.
        const content = await this.holdersOf(file.name, file.sha256);
        if (!content || content.holders.length === 0) throw new P2PError('NOT_FOUND', `no holder of ${quoted(file.name)} is online any more`, 'run the same command again later');
        return this.download({ name: file.name, outDir: folderFileDir(request.outDir, prefix, file.name, request.platform), content, sweptFolders, ...(request.force && { force: true }) }, signal);
      },
    });
  }

  /**
   * Who holds the content `sha256` under `name` now, as the tracker lists them (asked on the session kept
   * for questions); undefined when nobody does.
   */
  async holdersOf(name: string, sha256: string): Promise<Content | undefined> {
    this.assertOpen();
    return (await this.questions.ask((session) => session.whoHas(name, sha256))).find((c) => c.sha256 === sha256);
  }

  /** The holders of exactly the content a link names (peer get LINK), whatever name they share it under. */
  resolveLinked(linked: LinkedContent): Promise<Content> {
    this.assertOpen();
    return resolveLinkedContent(this.access, linked);
  }

  /** A folder link for `path` on this node's network: the tracker, the folder, and a digest of its files now. */
  async folderLink(path: string): Promise<string> {
    const prefix = folderPrefix(path);
    const { files } = await folderFiles(this.list(), prefix);
    if (files.length === 0) throw new P2PError('NOT_FOUND', `nothing is shared under ${quoted(prefix)}`, 'see `peer browse` for the folders on the network');
    const tracker = await this.provenTracker();
    return formatFolderLink(tracker, { path: prefix, files: files.length, digest: folderDigest(files) });
  }

  /** The first tracker with the identity it proved (connecting once if it has not yet). */
  private async provenTracker(): Promise<Endpoint & { id: string }> {
    const [tracker] = trackersOf(this.access);
    if (!tracker) throw new P2PError('NO_TRACKER', 'no tracker is chosen yet', 'choose one first');
    const id = this.trackerInfo?.id ?? tracker.id ?? (await this.join()).id;
    if (!id) throw new P2PError('CONNECT_FAILED', `tracker ${formatAddress(tracker)} proved no identity`, 'try again');
    return { host: tracker.host, port: tracker.port, id };
  }

  /**
   * A content link for `content` on this node's network: its first tracker with the identity it proved
   * (connecting once if it has not yet), and the piece tree most holders serve.
   */
  async contentLink(content: { name: string; sha256: string; size: number; root?: string }): Promise<string> {
    return formatContentLink(await this.provenTracker(), content);
  }


  /**
   * Downloads one file, verified, into `request.outDir`; see `download()` for what is guaranteed. The
   * download shows in `downloads()` and its events from start to end; `cancel` (or `signal`) stops it,
   * keeping its part for a resume.
   */
  download(request: DownloadRequest, signal?: AbortSignal): Promise<DownloadResult> {
    try {
      return this.startDownload(request, signal).finished;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Starts a download as `download` does and returns its id at once, for faces that follow it through
   * the events (the page answers with the id before the first byte). Throws if the node is closing.
   */
  startDownload(request: DownloadRequest, signal?: AbortSignal): { id: number; finished: Promise<DownloadResult> } {
    this.assertOpen();
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) abort.abort();
    const state: DownloadState = {
      id: this.nextId++,
      name: request.name,
      outDir: request.outDir,
      status: 'resolving',
      received: 0,
      total: request.content?.size,
      holder: undefined,
      sources: [],
      served: [],
      waiting: undefined,
      failures: [],
      result: undefined,
      error: undefined,
    };
    this.remember(state, abort);
    this.emit('download-started', copy(state));
    return { id: state.id, finished: this.runDownload(request, state, abort.signal, () => signal?.removeEventListener('abort', onAbort)) };
  }

  private async runDownload(request: DownloadRequest, state: DownloadState, signal: AbortSignal, cleanUp: () => void): Promise<DownloadResult> {
    /** Bytes sent to each other downloader of the same content, while it is offered. */
    let servedTo: ReadonlyMap<string, number> = new Map();
    const served = () => [...servedTo].map(([id, bytes]) => ({ id, bytes }));
    const options: DownloadOptions = {
      ...this.access,
      name: request.name,
      outDir: request.outDir,
      logger: this.options.logger,
      signal,
      force: request.force,
      sha256Prefix: request.sha256Prefix,
      stallTimeoutMs: this.options.stallTimeoutMs,
      busyWaitMs: this.options.busyWaitMs,
      maxSources: this.options.maxSources,
      onProgress: ({ holder, received, total, sources }) => {
        Object.assign(state, { status: 'transferring', holder, received, total, sources, served: served(), waiting: undefined });
        this.emit('download-progress', copy(state));
      },
      onWaiting: (reason) => {
        Object.assign(state, { status: 'waiting', waiting: reason });
        this.emit('download-progress', copy(state));
      },
      onHolderFailed: (failure) => {
        state.failures.push(failure);
        this.emit('holder-failed', copy(state), { ...failure });
      },
      onRenamed: (name, local, why) => this.emit('warning', `saving ${quoted(name)} as ${quoted(local)}: ${why}`),
      ...(request.window && { window: request.window }),
      ...(request.onPart && { onPart: request.onPart }),
      ...(request.sweptFolders && { sweptFolders: request.sweptFolders }),
      ...(this.servesDownloads && {
        offerPart: async (part, layer) => {
          const offer = await this.offerPart(part, layer, request.name);
          if (offer) servedTo = offer.offered.sentTo;
          return offer;
        },
      }),
    };
    try {
      const result = request.content ? await downloadContent(options, request.content) : await download(options);
      Object.assign(state, { status: 'done', result, received: result.size, total: result.size, served: served(), waiting: undefined });
      this.emit('download-finished', copy(state));
      return result;
    } catch (error) {
      const interrupted = error instanceof P2PError && error.code === 'INTERRUPTED';
      Object.assign(state, { status: interrupted ? 'interrupted' : 'failed', error: error instanceof Error ? error.message : String(error), waiting: undefined });
      this.emit('download-failed', copy(state), error);
      throw error;
    } finally {
      cleanUp();
    }
  }

  /** Whether downloads are served to others: on by default, for a node that has an identity to be listed by. */
  private get servesDownloads(): boolean {
    return (this.options.serveDownloads ?? true) && (this.options.identity !== undefined || this.options.transport !== undefined);
  }

  /** Serves a download's verified pieces to others and offers it to the tracker; undefined if it cannot be served. */
  private async offerPart(part: PartFile, layer: readonly Buffer[], name: string): Promise<PartOffer | undefined> {
    const { options } = this;
    // A one-piece file has nothing to serve before it is whole, and is whole at its first piece: offered,
    // it would cost the tracker an offer and a withdrawal per file of a folder for nothing (a seed keeps
    // serving it after, so it is offered then).
    if (part.geometry.pieceCount === 1 && !options.seed) return undefined;
    const start = (port: number) =>
      PartySession.start({
        ...this.access,
        ...(options.host !== undefined && { host: options.host }),
        port,
        logger: options.logger,
        maxUploads: options.maxUploads,
        maxUploadRate: options.maxUploadRate,
        seed: options.seed ?? false,
        reconnectBaseDelayMs: options.reconnectBaseDelayMs,
        reconnectMaxDelayMs: options.reconnectMaxDelayMs,
      });
    // PEER_PORT may be taken (a connect-back waiting on it, another program): any free port serves too.
    this.party ??= start(options.downloadPort ?? 0)
      .catch((error: unknown) => (options.downloadPort ? start(0) : Promise.reject(error)))
      .catch((error: unknown) => {
        this.emit('warning', `downloads are not served to others: ${(error as Error).message}`);
        return undefined;
      });
    const party = await this.party;
    if (!party || this.closing) return undefined;
    return party.offer(part, layer, name);
  }

  /** Stops a running download; its part is kept for a resume. False if it is not running. */
  cancel(id: number): boolean {
    const entry = this.downloadsById.get(id);
    if (!entry || !isRunning(entry.state)) return false;
    entry.abort.abort();
    return true;
  }

  /** Stops every download (parts kept) and every share (each says goodbye to the tracker). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const { abort } of this.downloadsById.values()) abort.abort();
      // A share still indexing stops itself once started (see `startShare`); wait for that too.
      await Promise.allSettled([...this.starts]);
      await Promise.allSettled([...this.sharesById.keys()].map((id) => this.stopShare(id)));
      await this.questions.close();
      await (await this.party)?.close();
      this.access.connectBack?.close();
      this.access.holderPool?.close();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new P2PError('INTERRUPTED', 'the peer is shutting down');
  }

  private snapshot(entry: ShareEntry): ShareState {
    const { index } = entry.session;
    const { session } = entry;
    return {
      ...entry.state,
      files: index.size,
      bytes: index.totalBytes,
      connected: session.connected,
      tracker: session.trackerLabel,
      ...(session.trackerId && { trackerId: session.trackerId }),
      network: session.network,
      ...(session.memberName && { member: session.memberName }),
      ...(session.firewalled && { firewalled: session.firewalled }),
      skipped: [...entry.state.skipped],
    };
  }

  private remember(state: DownloadState, abort: AbortController): void {
    this.downloadsById.set(state.id, { state, abort });
    // Keep the running ones and the latest finished ones.
    const finished = [...this.downloadsById.values()].filter(({ state: s }) => !isRunning(s));
    for (const old of finished.slice(0, Math.max(0, finished.length - DOWNLOAD_HISTORY))) this.downloadsById.delete(old.state.id);
  }

  private sawTracker(session: TrackerSession): void {
    const id = session.serverId;
    const member = session.welcome?.member?.name;
    this.trackerInfo = { address: this.tracker, ...(id && { id }), network: session.welcome?.network ?? 'open', ...(member && { member }) };
    this.emit('tracker-connected', { ...this.trackerInfo });
  }
}

function isRunning(state: DownloadState): boolean {
  return state.status === 'resolving' || state.status === 'waiting' || state.status === 'transferring';
}

function copy(state: DownloadState): DownloadState {
  return { ...state, failures: state.failures.map((f) => ({ ...f })), served: state.served.map((s) => ({ ...s })) };
}
