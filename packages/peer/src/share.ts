import { type Address, formatAddress, TrackerSession } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { FileServer, HOLDER_AGENT } from './file-server.js';
import { describeFile, type IndexedFile, type IndexProgress, indexFolder, type ShareIndex } from './share-index.js';

export interface ShareOptions {
  dir: string;
  tracker: Address;
  /** Address and port other peers connect to (port 0: a random free one). */
  host: string;
  port: number;
  logger: Logger;
  maxUploads?: number;
  maxFiles?: number;
  /** Hash cache folder; `null` for none; default `$XDG_CACHE_HOME/p2pservice`. */
  cacheDir?: string | null;
  onIndexProgress?: (progress: IndexProgress) => void;
  onWarning?: (line: string) => void;
}

/**
 * Sharing one folder: its index, the file server other peers download from, and the long-lived tracker
 * connection whose life is the share's life on the network. States: indexing → listening → registered
 * → closed; `stop` goes to closed from any of them.
 */
export class ShareSession {
  private stopping: Promise<void> | undefined;
  private tracker!: TrackerSession;
  private readonly rehashing = new Set<string>();
  private registration: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly index: ShareIndex,
    private readonly logger: Logger,
  ) {}

  /** Set once the file server listens. */
  server!: FileServer;

  static async start(options: ShareOptions): Promise<ShareSession> {
    const index = await indexFolder(options.dir, {
      ...(options.maxFiles && { maxFiles: options.maxFiles }),
      ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
      ...(options.onIndexProgress && { onProgress: options.onIndexProgress }),
      ...(options.onWarning && { onWarning: options.onWarning }),
    });
    const session = new ShareSession(index, options.logger);
    session.server = await FileServer.start({
      host: options.host,
      port: options.port,
      index,
      logger: options.logger,
      onStale: (file) => session.rehash(file),
      ...(options.maxUploads && { maxUploads: options.maxUploads }),
    });
    try {
      session.tracker = await TrackerSession.open(options.tracker, { agent: HOLDER_AGENT });
      await session.tracker.register(session.port, index.entries());
    } catch (error) {
      await session.tracker?.close();
      await session.server.close();
      throw error;
    }
    options.logger.debug({ tracker: formatAddress(options.tracker), files: index.files.length }, 'share registered');
    return session;
  }

  get port(): number {
    return this.server.address.port;
  }

  get trackerLabel(): string {
    return this.tracker.label;
  }

  /** Resolves when the tracker connection ends without `stop` having been called. */
  get whenTrackerLost(): Promise<void> {
    return this.tracker.whenClosed.then(() => (this.stopping ? new Promise<never>(() => {}) : undefined));
  }

  /** Waits until every re-hash and re-registration started so far has reached the tracker. */
  async settled(): Promise<void> {
    while (this.rehashing.size > 0) await new Promise((r) => setTimeout(r, 10));
    await this.registration;
  }

  /**
   * A file no longer matches its index entry: hash it again and tell the tracker the share's new state,
   * so the list never promises content this peer would not serve.
   */
  private rehash(file: IndexedFile): void {
    if (this.rehashing.has(file.name) || this.stopping) return;
    this.rehashing.add(file.name);
    void (async () => {
      try {
        const described = await describeFile(this.index.root, file.name);
        this.index.update(file.name, 'file' in described ? described.file : undefined);
        this.logger.info({ name: file.name, sha256: 'file' in described ? described.file.sha256 : null }, 'shared file changed; re-announcing');
        const register = () => this.tracker.register(this.port, this.index.entries());
        this.registration = this.registration.then(register, register);
        await this.registration;
      } catch (error) {
        this.logger.warn({ err: error, name: file.name }, 'could not re-announce a changed file');
      } finally {
        this.rehashing.delete(file.name);
      }
    })();
  }

  /** Says goodbye to the tracker (its rows go at once) and stops serving. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.tracker.close();
      await this.server.close();
    })();
    return this.stopping;
  }
}
