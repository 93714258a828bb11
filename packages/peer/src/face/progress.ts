import type { Ora } from 'ora';
import { terminalSafe } from '@p2pservice/protocol';
import type { DownloadState, PeerNodeEvents } from '../node-events.js';
import type { PeerNode } from '../node.js';
import type { IndexProgress } from '../share/index-folder.js';
import type { FolderProgress } from '../download/folder.js';
import { formatBytes, formatDuration } from './format.js';

/**
 * Progress lines on stderr with ora, only when stderr is a terminal: scripts and pipes get quiet output
 * (and do not even load ora, which is a good part of a CLI's start-up time).
 */
export class Progress {
  private readonly started = Date.now();

  private constructor(private readonly spinner: Ora | undefined) {}

  static async start(text: string, enabled = Boolean(process.stderr.isTTY)): Promise<Progress> {
    if (!enabled) return new Progress(undefined);
    // A terminal that reports no width (a pty nobody sized: `script`, some CI and IDE consoles) would have
    // ora divide by zero and clear lines forever, blocking everything else; take the usual 80 columns.
    if (!process.stderr.columns) process.stderr.columns = Number(process.env.COLUMNS) || 80;
    const { default: ora } = await import('ora');
    // discardStdin off: ora's discarder puts the terminal in raw mode and never reads it (stdin-discarder
    // adds its listener without resuming the stream), so Ctrl-C reached nobody. Cooked mode keeps the
    // terminal's own SIGINT, the same signal a pipe's user sends.
    return new Progress(ora({ text: terminalSafe(text), stream: process.stderr, discardStdin: false }).start());
  }

  download({ name, received, total, sources }: DownloadState): void {
    if (!this.spinner || total === undefined) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? received / seconds : 0;
    const eta = rate > 0 ? (total - received) / rate : Infinity;
    // Each holder in use with its rate now, so a person sees who is fast and who is not.
    const from = sources.length === 0 ? '' : ` from ${sources.map((s) => `${s.holder} ${formatBytes(s.rate)}/s`).join(', ')}`;
    this.spinner.text = `${terminalSafe(name)}: ${formatBytes(received)} / ${formatBytes(total)}, ${formatBytes(rate)}/s, ETA ${formatDuration(eta)}${from}`;
  }

  folder(title: string, { files, filesDone, bytes, bytesDone }: FolderProgress): void {
    if (!this.spinner) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    this.spinner.text = `${terminalSafe(title)}: ${filesDone} of ${files} files, ${formatBytes(bytesDone)} / ${formatBytes(bytes)}, ${formatBytes(rate)}/s`;
  }

  waiting(reason: string): void {
    if (!this.spinner) return;
    this.spinner.text = reason;
  }

  indexing({ files, bytes }: IndexProgress): void {
    if (!this.spinner) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? bytes / seconds : 0;
    this.spinner.text = `indexing: ${files} files, ${formatBytes(bytes)}, ${formatBytes(rate)}/s`;
  }

  stop(): void {
    this.spinner?.stop();
  }
}

/** Runs `action` with a progress line titled `title`, fed by the node's `event` through `show`. */
async function withProgress<E extends keyof PeerNodeEvents, T>(
  node: PeerNode,
  title: string,
  event: E,
  show: (progress: Progress) => (...args: PeerNodeEvents[E]) => void,
  action: () => Promise<T>,
): Promise<T> {
  const progress = await Progress.start(title);
  const listener = show(progress);
  node.on(event, listener as never);
  try {
    return await action();
  } finally {
    node.off(event, listener as never);
    progress.stop();
  }
}

/** Runs `action` with a progress line for the node's downloads (bytes, rate, ETA, or why it waits). */
export function withDownloadProgress<T>(node: PeerNode, label: string, action: () => Promise<T>): Promise<T> {
  return withProgress(node, `downloading ${label}`, 'download-progress', (progress) => (state: DownloadState) => (state.status === 'waiting' && state.waiting ? progress.waiting(state.waiting) : progress.download(state)), action);
}

/** Runs `action` with a progress line for indexing a folder (files, bytes, rate). */
export function withIndexProgress<T>(node: PeerNode, dir: string, action: () => Promise<T>): Promise<T> {
  return withProgress(node, `indexing ${dir}`, 'share-indexing', (progress) => (_dir: string, indexed: IndexProgress) => progress.indexing(indexed), action);
}
