import { type Address, formatAddress, TrackerSession } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { FileServer, HOLDER_AGENT } from './file-server.js';
import { type IndexProgress, indexFolder, type ShareIndex } from './share-index.js';

export interface ShareOptions {
  dir: string;
  tracker: Address;
  /** Address and port other peers connect to (port 0: a random free one). */
  host: string;
  port: number;
  logger: Logger;
  maxUploads?: number;
  maxFiles?: number;
  onIndexProgress?: (progress: IndexProgress) => void;
}

/**
 * Sharing one folder: its index, the file server other peers download from, and the long-lived tracker
 * connection whose life is the share's life on the network. States: indexing → listening → registered
 * → closed; `stop` goes to closed from any of them.
 */
export class ShareSession {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly index: ShareIndex,
    readonly server: FileServer,
    private readonly tracker: TrackerSession,
  ) {}

  static async start(options: ShareOptions): Promise<ShareSession> {
    const indexOptions = { ...(options.maxFiles && { maxFiles: options.maxFiles }), ...(options.onIndexProgress && { onProgress: options.onIndexProgress }) };
    const index = await indexFolder(options.dir, indexOptions);
    const server = await FileServer.start({
      host: options.host,
      port: options.port,
      index,
      logger: options.logger,
      ...(options.maxUploads && { maxUploads: options.maxUploads }),
    });
    let tracker: TrackerSession | undefined;
    try {
      tracker = await TrackerSession.open(options.tracker, { agent: HOLDER_AGENT });
      await tracker.register(server.address.port, index.entries());
    } catch (error) {
      await tracker?.close();
      await server.close();
      throw error;
    }
    options.logger.debug({ tracker: formatAddress(options.tracker), files: index.files.length }, 'share registered');
    return new ShareSession(index, server, tracker);
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

  /** Says goodbye to the tracker (its rows go at once) and stops serving. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.tracker.close();
      await this.server.close();
    })();
    return this.stopping;
  }
}
