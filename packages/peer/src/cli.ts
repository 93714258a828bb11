import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { parse as parseDotenv } from 'dotenv';
import { type Address, P2PError, parseAddress, reportFatal, setting, Sha256Prefix } from '@p2pservice/protocol';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { loadPeerSettings, type PeerSettings, shareTuning } from './config.js';
import { AmbiguousNameError, download } from './download.js';
import { runMenu } from './menu.js';
import { Progress } from './progress.js';
import { ambiguousTable, downloadSummary, printList, shareSummary, skippedLines, statusLine } from './report.js';
import { ShareSession } from './share.js';

// The CLI only parses flags, builds the config and the logger, and calls the library.

interface Context {
  settings: PeerSettings;
  logger: Logger;
  tracker: Address;
}

function readDotenv(): Record<string, string> {
  try {
    return parseDotenv(readFileSync('.env'));
  } catch {
    return {};
  }
}

function context(trackerFlag: string | undefined): Context {
  const settings = loadPeerSettings(process.env, readDotenv());
  const logger = pino({ name: 'peer', level: settings.LOG_LEVEL }, pino.destination({ dest: 2, sync: true }));
  const tracker = parseAddress(trackerFlag ?? settings.PEER_TRACKER, trackerFlag ? '--tracker' : 'PEER_TRACKER');
  return { settings, logger, tracker };
}

function parseFlags<S extends z.ZodType>(schema: S, flags: unknown, command: string): z.infer<S> {
  const result = schema.safeParse(flags);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new P2PError('BAD_CONFIG', `--${issue.path.join('.')}: ${issue.message}`, `see \`peer ${command} --help\``);
}

const out = (text: string) => process.stdout.write(text);

async function share(dir: string, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), port: setting.port().optional() }), rawFlags, 'share');
  const { settings, logger, tracker } = context(flags.tracker);
  // Signals are handled from the start, so a Ctrl-C during indexing or right after start-up is graceful.
  let session: ShareSession | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    if (!session) return;
    session.stop().then(
      () => {
        out('stopped sharing\n');
        process.exit(0);
      },
      (error) => process.exit(reportFatal('peer', error)),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = await Progress.start(`indexing ${dir}`);
  session = await ShareSession.start({
    dir,
    tracker,
    host: settings.PEER_HOST,
    port: flags.port ?? settings.PEER_PORT,
    maxUploads: settings.PEER_MAX_UPLOADS,
    maxFiles: settings.MAX_FILES_PER_SHARE,
    logger,
    ...shareTuning(settings),
    onIndexProgress: (p) => progress.indexing(p),
    onWarning: (line) => process.stderr.write(`peer: ${line}\n`),
    onStatus: (status) => process.stderr.write(statusLine(status)),
  }).finally(() => progress.stop());
  process.stderr.write(skippedLines(session));
  out(shareSummary(dir, session));
  if (stopping) return stop();
  process.stderr.write('Press Ctrl-C to stop sharing.\n');
  // Sharing goes on until a signal: a lost tracker is reconnected to, not a reason to stop.
  await new Promise<never>(() => {});
}

async function list(rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), json: z.boolean().optional() }), rawFlags, 'list');
  const { tracker } = context(flags.tracker);
  await printList(tracker, flags.json ?? false, out);
}

async function get(name: string, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(
    z.strictObject({
      tracker: z.string().optional(),
      out: z.string().min(1).optional(),
      force: z.boolean().optional(),
      sha256: z.string().toLowerCase().pipe(Sha256Prefix).optional(),
    }),
    rawFlags,
    'get',
  );
  const { settings, logger, tracker } = context(flags.tracker);
  // Ctrl-C keeps the partial download for the next `peer get` to resume, and exits 130.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = await Progress.start(`downloading ${name}`);
  try {
    const result = await download({
      tracker,
      name,
      outDir: flags.out ?? '.',
      force: flags.force ?? false,
      ...(flags.sha256 && { sha256Prefix: flags.sha256 }),
      logger,
      stallTimeoutMs: settings.STALL_TIMEOUT,
      signal: abort.signal,
      onProgress: (p) => progress.download(p),
      onWaiting: (reason) => progress.waiting(reason),
    });
    progress.stop();
    out(downloadSummary(result));
  } catch (error) {
    progress.stop();
    if (error instanceof AmbiguousNameError) {
      process.stderr.write(`peer: ${error.message}; pick one with --sha256 PREFIX:\n${ambiguousTable(error)}`);
      process.exit(1);
    }
    throw error;
  }
}

async function menu(rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional() }), rawFlags, '');
  const { settings, logger, tracker } = context(flags.tracker);
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const input = process.stdin;
  await Promise.race([
    runMenu({
      tracker,
      host: settings.PEER_HOST,
      port: settings.PEER_PORT,
      maxUploads: settings.PEER_MAX_UPLOADS,
      stallTimeoutMs: settings.STALL_TIMEOUT,
      shareTuning: shareTuning(settings),
      logger,
      input,
      output: process.stdout,
      errors: process.stderr,
    }),
    interrupted.then(() => input.destroy()),
  ]);
  process.exit(0);
}

const TRACKER_HELP = 'tracker address HOST:PORT (PEER_TRACKER, default 127.0.0.1:7070)';

const program = new Command('peer')
  .description('P2PService peer: share a folder, list the network, download from other peers.\nWith no command: an interactive menu.')
  .version('0.1.0')
  .option('--tracker <host:port>', TRACKER_HELP)
  // Root options only before a command name, so each command's own --tracker is its own.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`peer: ${text.replace(/^error: /, '').trim()} (see \`peer --help\`)\n`),
  })
  .action(menu);

program
  .command('share')
  .description('share a folder with the network until Ctrl-C')
  .argument('<dir>', 'folder to share (recursively)')
  .option('--tracker <host:port>', TRACKER_HELP)
  .option('--port <port>', 'port other peers download from, 0 for random (PEER_PORT, default 0)')
  .action(share);

program
  .command('list')
  .description('every file on the network, with size and number of holders')
  .option('--tracker <host:port>', TRACKER_HELP)
  .option('--json', 'print a JSON array on stdout instead of a table')
  .action(list);

program
  .command('get')
  .description('download a file straight from a peer that holds it')
  .argument('<file>', 'file name as `peer list` shows it')
  .option('--tracker <host:port>', TRACKER_HELP)
  .option('--out <dir>', 'folder to save into (created if missing)', undefined)
  .option('--force', 'replace a different file already at the target')
  .option('--sha256 <prefix>', 'pick one content when several share the name')
  .action(get);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.exit(reportFatal('peer', error));
}
