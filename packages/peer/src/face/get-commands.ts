import { dirname, relative } from 'node:path';
import { type LinkedFolder, P2PError, parseEndpoint, quoted, Sha256Prefix, terminalSafe } from '@p2pservice/protocol';
import { z } from 'zod';
import { AmbiguousNameError, checkSharedName, commonRoot } from '../download/resolve.js';
import { folderPrefix } from '../download/folder.js';
import type { PeerNode } from '../node.js';
import { PEER_SETTINGS } from '../settings/table.js';
import { err, out, parseFlags, peerNode, shownHere } from './command-node.js';
import { formatBytes } from './format.js';
import { onInterrupt } from './interrupt.js';
import { resolvePicked } from './picked-download.js';
import { Progress, withDownloadProgress } from './progress.js';
import { ambiguousTable, downloadSummary, folderSummary, trustedLine } from './report.js';
import { isRowNumber } from './shown-results.js';

// `peer get` (a file, a row, a link or a folder) and `peer link`: what fetches, and what names what to fetch.

/** `peer link NAME|N`: a link that names exactly one content, for anyone on the network to fetch. */
export async function link(nameOrNumber: string, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), sha256: z.string().toLowerCase().pipe(Sha256Prefix).optional() }), rawFlags, 'link');
  const picked = isRowNumber(nameOrNumber) ? await shownHere().pick(Number(nameOrNumber)) : undefined;
  if (picked && flags.sha256) throw new P2PError('BAD_CONFIG', `--sha256 does not go with a result number: ${nameOrNumber} names one content already`, 'leave out --sha256');
  const name = picked?.name ?? nameOrNumber;
  // A folder: a link naming the folder and what is under it now.
  if (!picked && name.endsWith('/')) {
    if (flags.sha256) throw new P2PError('BAD_CONFIG', '--sha256 does not go with a folder', 'leave it out');
    folderPrefix(name);
    const { node } = await peerNode(flags, 'link');
    try {
      return void out(`${await node.folderLink(name)}\n`);
    } finally {
      await node.close();
    }
  }
  checkSharedName(name);
  const { node } = await peerNode(flags, 'link');
  try {
    const content = picked ? await resolvePicked(node, picked) : await node.resolve(name, flags.sha256);
    const root = commonRoot(content);
    out(`${await node.contentLink({ name, sha256: content.sha256, size: content.size, ...(root && { root }) })}\n`);
  } catch (error) {
    exitIfAmbiguous(error);
    throw error;
  } finally {
    await node.close();
  }
}

/** Several contents under the name asked for: the table to pick from, exit 1. */
function exitIfAmbiguous(error: unknown): void {
  if (!(error instanceof AmbiguousNameError)) return;
  err(`peer: ${error.message}; pick one with --sha256 PREFIX:\n${ambiguousTable(error)}`);
  process.exit(1);
}

/** Whether a `peer get` argument is a link rather than a file name (a name never has "://"). */
const isLink = (text: string) => /^\s*p2p:\/\//i.test(text);

export async function get(nameOrNumber: string, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(
    z.strictObject({
      tracker: z.string().optional(),
      out: z.string().min(1).optional(),
      force: z.boolean().optional(),
      sha256: z.string().toLowerCase().pipe(Sha256Prefix).optional(),
      json: z.boolean().optional(),
      seed: z.boolean().optional(),
      folder: z.boolean().optional(),
    }),
    rawFlags,
    'get',
  );
  // A content link names its tracker and exactly one content (peer link); its tracker is used unless
  // --tracker says otherwise.
  const linked = isLink(nameOrNumber) ? parseEndpoint(nameOrNumber.trim(), 'link') : undefined;
  if (linked && !linked.content && !linked.folder) throw new P2PError('BAD_CONFIG', 'that link names a network, not a file', `join it with: peer join '<the link>'`);
  if (linked?.folder) return getFolder(linked.folder.path, { ...flags, ...(flags.tracker === undefined && { tracker: nameOrNumber.trim() }) }, linked.folder);
  if (linked && flags.sha256) throw new P2PError('BAD_CONFIG', '--sha256 does not go with a link: it names one content already', 'leave out --sha256');
  // A name ending in "/" (or --folder) is a folder: every file under it.
  if (!linked && (flags.folder || nameOrNumber.endsWith('/'))) return getFolder(nameOrNumber, flags);
  // A number is a row of the last table shown here (`peer search`, `peer list`), by its exact content.
  const picked = isRowNumber(nameOrNumber) ? await shownHere().pick(Number(nameOrNumber)) : undefined;
  if (picked && flags.sha256) throw new P2PError('BAD_CONFIG', `--sha256 does not go with a result number: ${nameOrNumber} names one content already`, 'leave out --sha256');
  const name = linked?.content?.name ?? picked?.name ?? nameOrNumber;
  // A name that cannot be one is refused before anything is made or asked.
  checkSharedName(name);
  const seed = flags.seed ?? false;
  // Serving the download to others (a LAN party) needs an identity to be listed under: made on first use,
  // without a word (it is the peer's own business until it shares). Nothing else listens in `peer get`,
  // so PEER_PORT (a port opened in a firewall) is where it serves.
  const trackerFlags = linked && flags.tracker === undefined ? { ...flags, tracker: nameOrNumber.trim() } : flags;
  const { node, settings } = await peerNode(trackerFlags, 'get', { mayShare: (s) => s.serveDownloads, extra: (s) => ({ seed, downloadPort: s.port }), sayNewIdentity: false });
  if (seed && !settings.serveDownloads) {
    throw new P2PError('BAD_CONFIG', `--seed serves the file to others, and ${PEER_SETTINGS.serveDownloads.env} is off`, `leave out --seed, or set ${PEER_SETTINGS.serveDownloads.env}=on`);
  }
  node.on('tracker-trusted', (address, id) => err(trustedLine(address, id)));
  node.on('warning', (line) => err(`peer: ${line}\n`));
  // Ctrl-C keeps the partial download for the next `peer get` to resume, and exits 130.
  const abort = new AbortController();
  const stopListening = onInterrupt(() => abort.abort());
  try {
    const content = linked?.content ? await node.resolveLinked(linked.content) : picked && (await resolvePicked(node, picked));
    const result = await withDownloadProgress(node, name, () =>
      node.download(
        { name, outDir: flags.out ?? '.', force: flags.force ?? false, ...(flags.sha256 && { sha256Prefix: flags.sha256 }), ...(content && { content }) },
        abort.signal,
      ),
    );
    out(flags.json ? `${JSON.stringify(result)}\n` : downloadSummary(result));
    if (seed && result.holder === null) {
      // Nothing was downloaded, so nothing was offered: a file that was here already is shared as any other.
      err(`peer: not seeding: ${result.path} was here already; to serve it, share its folder: peer share ${terminalSafe(dirname(result.path))}\n`);
    } else if (seed) {
      stopListening();
      await seedUntilInterrupted(node, result.path);
    }
  } catch (error) {
    exitIfAmbiguous(error);
    throw error;
  } finally {
    stopListening();
    await node.close();
  }
}

/**
 * `peer get DIR/`: every file under a folder of the network, its structure kept under --out, a line for
 * each file saved, then the folder's total; files that could not be fetched are said and make it exit 1.
 */
async function getFolder(
  path: string,
  flags: { tracker?: string | undefined; out?: string | undefined; force?: boolean | undefined; json?: boolean | undefined; sha256?: string | undefined; seed?: boolean | undefined },
  linked?: LinkedFolder,
): Promise<void> {
  if (flags.sha256 || flags.seed) throw new P2PError('BAD_CONFIG', `${flags.sha256 ? '--sha256' : '--seed'} does not go with a folder`, 'leave it out, or name one file');
  // A name that cannot be a folder is refused before anything is made or asked.
  folderPrefix(path);
  const outDir = flags.out ?? '.';
  const { node } = await peerNode(flags, 'get', { mayShare: (s) => s.serveDownloads, extra: (s) => ({ downloadPort: s.port }), sayNewIdentity: false });
  node.on('tracker-trusted', (address, id) => err(trustedLine(address, id)));
  node.on('warning', (line) => err(`peer: ${line}\n`));
  const abort = new AbortController();
  const stopListening = onInterrupt(() => abort.abort());
  const progress = await Progress.start(`downloading ${path}`);
  try {
    const result = await node.downloadFolder({ path, outDir, ...(flags.force && { force: true }) }, abort.signal, {
      saved: (_name, saved) => (flags.json ? undefined : out(`saved ${terminalSafe(relative(process.cwd(), saved.path) || saved.path)} (${formatBytes(saved.size)})\n`)),
      progress: (p) => progress.folder(path, p),
    });
    progress.stop();
    if (flags.json) out(`${JSON.stringify(result)}\n`);
    else out(folderSummary(result, outDir));
    if (linked && linked.digest !== result.digest) {
      err(`peer: the folder has changed since the link was made (${linked.files} files then, ${result.saved.length + result.failed.length} now): fetched what is there now\n`);
    }
    for (const name of result.ambiguous) err(`peer: several contents are shared as ${quoted(name)}: took the one most peers hold\n`);
    for (const failed of result.failed) err(`peer: could not fetch ${quoted(failed.name)}: ${failed.error}\n`);
    if (result.failed.length > 0) process.exitCode = 1;
  } finally {
    progress.stop();
    stopListening();
    await node.close();
  }
}

/** `peer get --seed`: the finished file is served to others until Ctrl-C, which then exits 0. */
async function seedUntilInterrupted(node: PeerNode, path: string): Promise<void> {
  err(`seeding ${terminalSafe(path)} to others who download it; press Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => onInterrupt(resolve));
  await node.close();
  err('stopped seeding\n');
}

