import type { DownloadResult, HolderFailure } from './download/download.js';
import type { SourceProgress } from './download/swarm.js';
import type { IndexProgress } from './share/index-folder.js';
import type { SkippedFile } from './share/share-index.js';

/** The tracker as the node last met it. */
export interface TrackerInfo {
  /** HOST:PORT */
  address: string;
  /** The identity it proved. */
  id?: string;
  network: 'open' | 'private' | 'members';
  /** On a members network: the name this peer is a member under. */
  member?: string;
}

/** A folder the node shares, as a face shows it. */
export interface ShareState {
  id: number;
  /** The folder as the user named it. */
  dir: string;
  /** Its real path. */
  root: string;
  files: number;
  bytes: number;
  /** The port other peers download from. */
  port: number;
  /** The tracker it is registered with, as HOST:PORT. */
  tracker: string;
  /** False while the tracker is lost and the share is reconnecting. */
  connected: boolean;
  /** The identity the tracker proved on the share's connection. */
  trackerId?: string;
  network: 'open' | 'private' | 'members';
  /** On a members network: the name this peer is a member under. */
  member?: string;
  /**
   * Why the tracker could not reach `port`, when it could not: the share is listed as firewalled, and
   * others download from it through connect-back (it dials them when the tracker asks).
   */
  firewalled?: string;
  /** Files left out, and why. */
  skipped: readonly SkippedFile[];
}

export type DownloadStatus = 'resolving' | 'waiting' | 'transferring' | 'done' | 'failed' | 'interrupted';

/** A download the node runs or ran, as a face shows it. */
export interface DownloadState {
  id: number;
  name: string;
  outDir: string;
  status: DownloadStatus;
  /** Bytes in the part so far (all of them written and hashed). */
  received: number;
  /** The content's size, once known. */
  total: number | undefined;
  /** The holders bytes are coming from now, as one label. */
  holder: string | undefined;
  /** Each holder in use: bytes of verified pieces it sent, and its rate. */
  sources: SourceProgress[];
  /**
   * What this peer sent of the download's verified pieces to others downloading it too (a LAN party):
   * bytes per downloader, by the identity it proved.
   */
  served: { id: string; bytes: number }[];
  /** Why the download waits, while it does. */
  waiting: string | undefined;
  /** Holders left out of the download, in order. */
  failures: HolderFailure[];
  /** Set when done. */
  result: DownloadResult | undefined;
  /** One line, set when failed or interrupted. */
  error: string | undefined;
}

/** A lost tracker connection of one share, and when the next attempt comes. */
export interface Reconnecting {
  /** 0 when the connection was just lost, then 1, 2, … for each failed attempt. */
  attempt: number;
  retryInMs: number;
  reason: string;
  /** The last attempt reached a tracker, which refused this peer (banned, or the network's key): not an outage. */
  refused?: boolean;
}

/**
 * Everything a node tells its faces. Every payload is a snapshot: a listener may keep it.
 */
export interface PeerNodeEvents {
  'share-indexing': [dir: string, progress: IndexProgress];
  'share-started': [share: ShareState];
  /** The folder changed and the change went to the tracker (or waits for the next registration). */
  'share-updated': [share: ShareState, change: { added: number; removed: number }];
  'share-stopped': [share: ShareState];
  'tracker-lost': [share: ShareState, reconnecting: Reconnecting];
  /** `previous`: the tracker that was lost (another one if the share moved to another tracker). */
  'tracker-back': [share: ShareState, previous: string];
  /** A tracker met for the first time was trusted and its identity remembered (HOST:PORT, identity). */
  'tracker-trusted': [tracker: string, id: string];
  /** A node started without a tracker was given one (useTracker): HOST:PORT. */
  'tracker-chosen': [tracker: string];
  /** The node connected to its tracker (to list, for now): who it is and whether the network is private. */
  'tracker-connected': [info: TrackerInfo];
  /** Something worth one line to the user that is not an error of an action (a corrupt cache, a full share). */
  'warning': [message: string];
  'download-started': [download: DownloadState];
  /** Bytes arrived, or the download started waiting (busy holders, another download of the same file). */
  'download-progress': [download: DownloadState];
  'holder-failed': [download: DownloadState, failure: HolderFailure];
  'download-finished': [download: DownloadState];
  'download-failed': [download: DownloadState, error: unknown];
}
