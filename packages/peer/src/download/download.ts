import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { baseName, type Content, type ContentHolder, formatAddress, P2PError, quoted, senderOf, STALL_TIMEOUT_MS } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { ioError } from '../util/fs-errors.js';
import { sleep } from '../util/sleep.js';
import { PartFile } from './part-file.js';
import type { Source } from './source.js';
import { type HolderFailure, HolderFailures } from './holder-failures.js';
import { fetchLayer, verifyLeftBehind } from './piece-checks.js';
import { fillFromSwarm, type SourceProgress, type SwarmOptions, type SwarmProgress } from './swarm.js';
import { WholeHash } from './whole-hash.js';
import { freshHolders, resolveContent } from './resolve.js';
import { commit, targetHasContent } from './target.js';
import { localName } from './local-name.js';
import type { PlayWindow } from './play-window.js';
import type { NetworkAccess } from '../network/tracker-access.js';
import { DEFAULT_MAX_SOURCES } from '../settings/defaults.js';
import { PEER_SETTINGS } from '../settings/table.js';

export interface DownloadProgress {
  name: string;
  /** The holders sending now, as one label (`a, b and 1 more`). */
  holder: string;
  received: number;
  total: number;
  /** Each holder in use: bytes of verified pieces it sent, and its rate. */
  sources: SourceProgress[];
}

export type { HolderFailure } from './holder-failures.js';

export interface DownloadOptions extends NetworkAccess {
  name: string;
  /** Folder to save into (created if missing, once a holder is known). */
  outDir: string;
  /** Replace a different file at the target. */
  force?: boolean;
  /** Pick among several contents shared under one name. */
  sha256Prefix?: string;
  logger: Logger;
  onProgress?: (progress: DownloadProgress) => void;
  /** Called when the download waits (busy holders, another download of the same file), saying why. */
  onWaiting?: (reason: string) => void;
  /** Called when a holder fails (and the download moves on to the next one, if any). */
  onHolderFailed?: (failure: HolderFailure) => void;
  /** How long to keep retrying holders that answer BUSY (default BUSY_WAIT_MS). */
  busyWaitMs?: number;
  /** A holder that sends nothing for this long is left for the next one (default STALL_TIMEOUT_MS). */
  stallTimeoutMs?: number;
  /** Holders to take pieces from at once (default DEFAULT_MAX_SOURCES; PEER_MAX_SOURCES). */
  maxSources?: number;
  /** Aborting keeps the partial download for a later resume and fails with INTERRUPTED. */
  signal?: AbortSignal;
  /**
   * Offers the part to others who download the same content, as its pieces are verified (a LAN party):
   * called once the piece tree is known; the offer is ended when the download ends.
   */
  offerPart?: (part: PartFile, layer: readonly Buffer[]) => Promise<OfferedDownload | undefined>;
  /** The platform whose file-name rules the saved name follows (default this one's; tests inject others). */
  platform?: NodeJS.Platform;
  /** Called once when the file is saved under another name than the network's (illegal here), saying why. */
  onRenamed?: (name: string, local: string, why: string) => void;
  /** A player's position (peer ui's Play): those pieces are fetched first. */
  window?: PlayWindow;
  /** Told the part file once it is locked: what a player reads verified pieces from. */
  onPart?: (part: PartFile) => void;
  /** Folders already cleared of dead lock asides in this run (a folder download's files share one set). */
  sweptFolders?: Set<string>;
}

/** A download offered to others (PartySession.offer). */
export interface OfferedDownload {
  /** The tracker lists it: others may be downloading the same content and fetching from us. */
  readonly listed: boolean;
  /** The download ended: committed to `committedTo`, or not (kept for a resume, or failed). */
  end(committedTo: string | undefined): Promise<void>;
}

/** How long a download waits for a busy holder's upload slot before giving up on it. */
export const BUSY_WAIT_MS = 120_000;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** The holder that sent the most bytes; null when the target already held this content. */
  holder: string | null;
  /** Every holder that sent verified pieces, with how many bytes; empty when nothing had to be fetched. */
  holders: { holder: string; bytes: number }[];
  /** Holders left out of this download and why; `lied` for those that sent pieces that did not match. */
  failed: HolderFailure[];
  /** Bytes received and thrown away: bad pieces, and pieces cut short when a holder failed or lost a race. */
  discardedBytes: number;
}

/**
 * Downloads `name`: resolve it through the tracker, stream it from holders into a locked part file beside
 * the target while hashing, and move it into place only when size and sha256 match. A holder that fails
 * (refuses, drops, stalls, sends wrong bytes or an error) is left for the next one, which continues where
 * it stopped. Whatever happens, nothing but a verified file ever appears at the target name; an
 * unfinished download keeps its part file for `peer get` to resume later.
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const content = await resolveContent(options, options.name, options.sha256Prefix);
  return downloadContent(options, content);
}

export async function downloadContent(options: DownloadOptions, content: Content): Promise<DownloadResult> {
  const local = localName(baseName(options.name), options.platform);
  if (local.why) options.onRenamed?.(baseName(options.name), local.name, local.why);
  const target = join(options.outDir, local.name);
  const present: DownloadResult = { path: target, size: content.size, sha256: content.sha256, holder: null, holders: [], failed: [], discardedBytes: 0 };
  if (await targetHasContent(target, content, options.force ?? false)) return present;
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw ioError(`cannot create folder ${options.outDir}`, error);
  }
  const part = await lockPart(target, content, options);
  if (!part) return present;
  options.onPart?.(part);
  let committed = false;
  let offer: OfferedDownload | undefined;
  /** Offers made one after the other (a new piece tree ends the offer of the old one). */
  let offering: Promise<unknown> = Promise.resolve();
  const offerPart = (layer: readonly Buffer[]): Promise<boolean> => {
    const made = offering.then(async () => {
      await offer?.end(undefined);
      offer = await options.offerPart?.(part, layer).catch((error: unknown) => {
        options.logger.debug({ err: error }, 'download not offered to others');
        return undefined;
      });
      return offer?.listed ?? false;
    });
    offering = made;
    return made;
  };
  try {
    const failures = new HolderFailures(options.onHolderFailed);
    const sources = await fillPart(part, content, failures, options, options.offerPart && offerPart);
    await part.finish();
    await commit(part.paths.part, target, content, options.force ?? false);
    committed = true;
    await part.releaseAfterCommit();
    const holders = sources.filter((s) => s.bytes > 0).sort((a, b) => b.bytes - a.bytes).map((s) => ({ holder: s.label, bytes: s.bytes }));
    const discardedBytes = sources.reduce((sum, s) => sum + s.received - s.bytes, 0);
    return { path: target, size: content.size, sha256: content.sha256, holder: holders[0]?.holder ?? 'an earlier partial download', holders, failed: failures.list, discardedBytes };
  } finally {
    await offering;
    await offer?.end(committed ? target : undefined);
    if (!committed) await part.keep();
  }
}

/**
 * Locks the part file of this content in this folder. If another live process is downloading the same
 * content here, waits for it: returns `undefined` if it produced the file, or takes over if it gave up.
 */
async function lockPart(target: string, content: Content, options: DownloadOptions): Promise<PartFile | undefined> {
  for (;;) {
    const part = await PartFile.open(target, content, options.sweptFolders);
    if (part instanceof PartFile) return part;
    options.onWaiting?.(`another download (pid ${part.heldBy}) is fetching this file into the same folder`);
    await sleep(100, options.signal);
    if (options.signal?.aborted) throw new P2PError('INTERRUPTED', 'interrupted while waiting for another download of the same file', 'run the same command again');
    if (await targetHasContent(target, content, false).catch(() => false)) return undefined;
  }
}

/**
 * The holders grouped by the piece-tree root they registered: first the root that holders on the most
 * machines agree on (one machine's many holders vote once: it cannot outvote the others), and within a
 * group the holders that can be dialled before those reached through connect-back, each kind shuffled.
 */
function byRoot(holders: readonly ContentHolder[]): ContentHolder[][] {
  const groups = new Map<string, ContentHolder[]>();
  for (const holder of shuffled(holders)) {
    const group = groups.get(holder.root) ?? [];
    group.push(holder);
    groups.set(holder.root, group);
  }
  // Only complete holders vote: partial ones (downloaders) join the tree complete holders agree on, and
  // a tree that only partial holders name comes last, so that a few of them cannot outvote the seeds.
  const senders = (group: ContentHolder[]) => new Set(group.filter((h) => !h.partial).map((h) => senderOf(h.host))).size;
  return [...groups.values()]
    .sort((a, b) => senders(b) - senders(a) || b.length - a.length)
    .map((group) => [...group.filter((h) => !h.firewalled && !h.partial), ...group.filter((h) => h.firewalled && !h.partial), ...group.filter((h) => h.partial)]);
}

/**
 * Fills the part until it holds the content, checked piece by piece against the piece tree most holders
 * registered, and then as a whole against the sha256. A tree whose pieces all check but whose whole
 * does not (its holders registered a root of other bytes) is thrown away with its holders, and the next
 * tree is tried. Returns the sources the bytes came from.
 */
async function fillPart(
  part: PartFile,
  content: Content,
  failures: HolderFailures,
  options: DownloadOptions,
  offerPart: ((layer: readonly Buffer[]) => Promise<boolean>) | undefined,
): Promise<Source[]> {
  const swarmOptions: SwarmOptions = {
    access: options,
    logger: options.logger,
    maxSources: options.maxSources ?? DEFAULT_MAX_SOURCES,
    stallMs: options.stallTimeoutMs ?? STALL_TIMEOUT_MS,
    busyWaitMs: options.busyWaitMs ?? BUSY_WAIT_MS,
    failures,
    ...(options.signal && { signal: options.signal }),
    ...(options.window && { window: options.window }),
    ...(options.onWaiting && { onWaiting: options.onWaiting }),
    ...(options.onProgress && {
      onProgress: ({ received, total, sources }: SwarmProgress) =>
        options.onProgress!({ name: options.name, holder: holdersLabel(sources.map((s) => s.holder)), received, total, sources }),
    }),
    moreHolders: async () => [],
  };
  let groups = byRoot(content.holders);
  let askedTracker = false;
  for (;;) {
    const holders = groups.shift()?.filter((h) => !failures.has(formatAddress(h)));
    if (!holders) {
      if (askedTracker) throw options.tickets?.refusal ?? everyHolderFailed(part, options.name, failures);
      askedTracker = true;
      groups = byRoot((await freshHolders(options, options.name, content)).filter((h) => !failures.has(formatAddress(h))));
      continue;
    }
    if (holders.length === 0) continue;
    const root = holders[0]!.root;
    const layer = await fetchLayer(part, holders, root, swarmOptions).catch(asInterrupted(part, options.signal));
    if (!layer) continue;
    swarmOptions.moreHolders = async () => {
      askedTracker = true;
      return (await freshHolders(options, options.name, content)).filter((h) => h.root === root);
    };
    swarmOptions.discover = async () => (await freshHolders(options, options.name, content)).filter((h) => h.root === root);
    const outcome = await fillWithTree(part, root, layer, holders, swarmOptions, offerPart);
    if (outcome === 'incomplete') {
      if (options.signal?.aborted) throw interrupted(part);
      continue;
    }
    if (outcome !== 'other bytes') return outcome;
    // Every piece matched the tree, and the whole did not match the sha256: the tree is of other bytes.
    for (const holder of holders) {
      failures.add({ holder: formatAddress(holder), code: 'HOLDER_FAILED', reason: 'registered a piece tree of other bytes than the listed sha256', lied: true });
    }
    await part.reset();
  }
}

/**
 * Fills the part against one piece tree (the pieces an earlier run left are verified first) and checks
 * the whole SHA-256. Returns the sources, or why it did not get there.
 */
async function fillWithTree(
  part: PartFile,
  root: string,
  layer: Buffer[],
  holders: ContentHolder[],
  options: SwarmOptions,
  offerPart: ((layer: readonly Buffer[]) => Promise<boolean>) | undefined,
): Promise<Source[] | 'incomplete' | 'other bytes'> {
  const whole = new WholeHash(part, layer);
  try {
    const leftBehind = await part.plan(root);
    // An empty file's one piece has no bytes to fetch: it is checked like a piece found on disk.
    await verifyLeftBehind(part, layer, whole, part.content.size === 0 ? [0] : leftBehind);
    // Offered once what is on disk is known: from here on, every verified piece may be served to others.
    // Not waited for: the tracker first checks that our port answers, which may take its while. Until it
    // says, others may be starting the same download (the first runs are short).
    if (!part.isComplete && offerPart) {
      options.partyPossible = true;
      void offerPart(layer).then((listed) => (options.partyPossible = listed));
    }
    const live = holders.filter((h) => !options.failures.has(formatAddress(h)));
    const sources = part.isComplete ? [] : await fillFromSwarm(part, layer, whole, live, options).catch(asInterrupted(part, options.signal));
    if (!part.isComplete) return 'incomplete';
    const sha256 = await whole.digest().catch((error: unknown) => {
      throw ioError(`cannot read ${part.paths.part}`, error);
    });
    return sha256 === part.content.sha256 ? sources : 'other bytes';
  } finally {
    whole.close();
  }
}

function everyHolderFailed(part: PartFile, name: string, failures: HolderFailures): P2PError {
  // Only a port of ours (or theirs) can change that: one line that says so is all there is to tell.
  if (failures.list.every((f) => f.code === 'BOTH_FIREWALLED')) {
    const holders = failures.list.length === 1 ? 'its only holder is' : `all ${failures.list.length} holders are`;
    const why = /so are you: (.*?)(?:; |$)/.exec(failures.list[0]!.reason)?.[1] ?? failures.list[0]!.reason;
    return new P2PError('BOTH_FIREWALLED', `cannot download ${quoted(name)}: ${holders} firewalled, and so are you: ${why}`, `open a TCP port on either side: set ${PEER_SETTINGS.port.env} and let it through your firewall, or ask a holder to open theirs`);
  }
  const lines = failures.list.map((f) => `\n  ${f.holder}: ${f.reason}`).join('');
  const kept = part.verifiedPieces > 0
    ? `${part.verifiedBytes} of ${part.content.size} bytes are kept in ${part.paths.part}; run the same command later to resume`
    : 'try again later, or check `peer list`';
  return new P2PError('HOLDER_FAILED', `every holder of ${quoted(name)} failed (${kept}):${lines}`);
}

/** Up to three holders by name, and how many more. */
function holdersLabel(labels: readonly string[]): string {
  if (labels.length <= 3) return labels.join(', ');
  return `${labels.slice(0, 3).join(', ')} and ${labels.length - 3} more`;
}

/** Rethrows an error, as INTERRUPTED saying what is kept if the user stopped the download. */
const asInterrupted = (part: PartFile, signal: AbortSignal | undefined) => (error: unknown): never => {
  throw signal?.aborted ? interrupted(part) : error;
};

function interrupted(part: PartFile): P2PError {
  return new P2PError('INTERRUPTED', `interrupted; ${part.verifiedBytes} of ${part.content.size} bytes are kept in ${part.paths.part}`, 'run the same command again to resume');
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
