import { type Endpoint, formatAddress, P2PError, parseEndpointList, parseNetworkKey, terminalSafe, uncheckedSecretLine } from '@p2pservice/protocol';
import { cliLogger, colourOn, defaultStateDir, logFormat, readDotenv, readEnvFile, requirePrivateDotenv, requirePrivateEnvFile } from '@p2pservice/cli';
import type { z } from 'zod';
import { ShownResults } from './shown-results.js';
import type { Logger } from 'pino';
import { PeerNode, type PeerNodeOptions } from '../node.js';
import { type FoundTracker } from '../network/lan-trackers.js';
import { loadPeerSettings, PEER_SETTINGS, type PeerSettings } from '../settings/table.js';
import { trackerFromLan } from './lan-choice.js';
import { joinedSettingsFile, knownTrackersOf, nodeOptions } from './node-options.js';

// What every command of the CLI starts from: its settings, its logger, its tracker, and its node.

export const out = (text: string) => process.stdout.write(text);
export const err = (text: string) => process.stderr.write(text);
/** The numbered table last shown in this folder. */
export const shownHere = () => new ShownResults(defaultStateDir(process.env));

/** A command's flags checked by `schema`; the first problem as BAD_CONFIG naming the flag. */
export function parseFlags<S extends z.ZodType>(schema: S, flags: unknown, command: string): z.infer<S> {
  const result = schema.safeParse(flags);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.join('.').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
  throw new P2PError('BAD_CONFIG', `--${flag}: ${issue.message}`, `see \`peer ${command} --help\``);
}

/** The node of a command: its settings from the command's flags, the environment, `.env` and the defaults. */
export async function peerNode(
  flags: { tracker?: string | undefined; port?: unknown; uiPort?: unknown },
  command: string,
  {
    mayShare = false,
    extra = () => ({}),
    sayNewIdentity = true,
    chooseTracker,
    pageChooses = false,
  }: {
    mayShare?: boolean | ((settings: PeerSettings) => boolean);
    extra?: (settings: PeerSettings) => Partial<PeerNodeOptions>;
    sayNewIdentity?: boolean;
    chooseTracker?: (found: readonly FoundTracker[]) => Promise<FoundTracker | undefined>;
    /** `peer ui`: with none or several trackers on the LAN, start without one; the page lets the person choose. */
    pageChooses?: boolean;
  } = {},
): Promise<{ node: PeerNode; settings: PeerSettings; logger: Logger }> {
  const { settings, logger } = commandSettings(flags, command);
  const tracker = await trackerOf(settings, flags.tracker === undefined ? PEER_SETTINGS.tracker.env : '--tracker', logger, chooseTracker).catch((error: unknown) => {
    if (!pageChooses || !(error instanceof P2PError) || (error.code !== 'NO_TRACKER' && error.code !== 'SEVERAL_TRACKERS')) throw error;
    err(`peer: ${error.message}: choose the network in the page\n`);
    return [];
  });
  const { identityCreated, identityUnchecked, ...options } = await nodeOptions(settings, tracker, logger, process.env, { mayShare: typeof mayShare === 'function' ? mayShare(settings) : mayShare });
  if (identityUnchecked) err(`peer: ${uncheckedSecretLine(identityUnchecked)}\n`);
  if (identityCreated && sayNewIdentity) err(`peer: made a new identity for this peer, ${options.identity!.id} (kept in ${identityCreated})\n`);
  return { node: new PeerNode({ ...options, ...(tracker.find((t) => t.key) && { networkKey: linkKey(tracker, settings) }), ...extra(settings) }), settings, logger };
}

/**
 * A command's settings: flags, then the environment, then `.env` here, then what `peer join` kept, then
 * the defaults. A file that holds the network key must be its owner's alone.
 */
export function commandSettings(flags: Record<string, unknown>, command: string): { settings: PeerSettings; logger: Logger } {
  const dotenv = readDotenv(process.cwd());
  const joinedFile = joinedSettingsFile(process.env);
  const joined = readEnvFile(joinedFile);
  const settings = loadPeerSettings({ env: process.env, dotenv: { ...joined, ...dotenv }, flags, flagHint: `see \`${['peer', command].filter(Boolean).join(' ')} --help\`` });
  const { networkKey } = PEER_SETTINGS;
  for (const unchecked of [
    requirePrivateDotenv(process.cwd(), dotenv, process.env, [networkKey.env]),
    requirePrivateEnvFile(joinedFile, joined, { ...dotenv, ...process.env }, [networkKey.env]),
  ]) {
    if (unchecked) err(`peer: ${unchecked}\n`);
  }
  const logger = cliLogger('peer', settings.logLevel, logFormat(settings.logFormat, process.stderr), colourOn(process.stderr, process.env));
  return { settings, logger };
}

/** The trackers a command uses: the ones set, or the one announced on the LAN. */
async function trackerOf(settings: PeerSettings, what: string, logger: Logger, choose?: (found: readonly FoundTracker[]) => Promise<FoundTracker | undefined>): Promise<Endpoint[]> {
  if (settings.tracker !== undefined) return parseEndpointList(settings.tracker, what);
  const endpoint = await trackerFromLan({
    knownTrackers: knownTrackersOf(process.env),
    discover: settings.discover,
    hasKey: settings.networkKey !== undefined,
    err,
    ...(choose && { choose }),
    onIgnored: (why) => logger.debug(why),
  });
  return [endpoint];
}

/** The network key a join link carries: used when none is set, refused when another one is. */
function linkKey(tracker: readonly Endpoint[], settings: PeerSettings): Buffer {
  const key = parseNetworkKey(tracker.find((t) => t.key)!.key!);
  if (settings.networkKey && !settings.networkKey.equals(key)) {
    throw new P2PError('BAD_CONFIG', `the link's network key is not the ${PEER_SETTINGS.networkKey.env} set here`, `remove ${PEER_SETTINGS.networkKey.env} from .env and the environment, or use the tracker's address without ?key=`);
  }
  return key;
}

/** The menu's pick among several trackers found on the LAN: a numbered list, and a number typed. */
export function askWhichTracker(lines: AsyncIterator<string>) {
  return async (found: readonly FoundTracker[]): Promise<FoundTracker | undefined> => {
    err(`${found.length} trackers answered on the LAN:\n${found.map((t, n) => `  ${n + 1}) ${terminalSafe(t.name)}  ${formatAddress({ host: t.host, port: t.port })}  ${t.network} network\n`).join('')}`);
    out(`Use which (1-${found.length})? `);
    const answer = await lines.next();
    return answer.done ? undefined : found[Number(answer.value.trim()) - 1];
  };
}

