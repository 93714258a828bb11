#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { generateNetworkKey, loadOrCreateIdentity, P2PError, parseNetworkKey, tlsTransport } from '@p2pservice/protocol';
import { cliLogger, colourOn, defaultConfigDir, logFormat, readDotenv, reportFatal, requirePrivateDotenv, setting, settingsHelp, completionScript } from '@p2pservice/protocol/cli';
import { z } from 'zod';
import { peerAddresses } from './addresses.js';
import { loadTrackerSettings, TRACKER_DEFAULTS, TRACKER_SETTINGS_HELP } from './config.js';
import { StatusServer } from './observe/status-server.js';
import { timedStore } from './observe/timed-store.js';
import { TrackerMetrics } from './observe/tracker-metrics.js';
import { TrackerServer } from './server/tracker-server.js';
import { isPostgresUrl, openStore } from './store/open-store.js';
import { TRACKER_VERSION } from './server/version.js';

// The CLI only parses flags, builds the config, the logger and the store, and calls the library.

const StartFlags = z.strictObject({
  host: setting.text().optional(),
  port: setting.port().optional(),
  db: setting.text().optional(),
  newKey: z.boolean().optional(),
  httpPort: setting.port().optional(),
  httpHost: setting.text().optional(),
});

async function start(rawFlags: unknown): Promise<void> {
  const flags = StartFlags.safeParse(rawFlags);
  if (!flags.success) throw new P2PError('BAD_CONFIG', `invalid flag: ${flags.error.issues[0]?.path.join('.')} ${flags.error.issues[0]?.message}`, 'see `tracker start --help`');
  const dotenv = readDotenv(process.cwd());
  const settings = loadTrackerSettings(process.env, dotenv);
  // A database URL may hold a password: a .env that holds one must be its owner's alone, like a key.
  requirePrivateDotenv(process.cwd(), dotenv, process.env, isPostgresUrl(dotenv.TRACKER_DB ?? '') ? ['NETWORK_KEY', 'TRACKER_DB'] : ['NETWORK_KEY']);
  const logger = cliLogger('tracker', settings.LOG_LEVEL, logFormat(settings.LOG_FORMAT, process.stderr), colourOn(process.stderr, process.env));
  // Everything that can fail on a bad setting fails before anything is made or printed.
  const freshKey = flags.data.newKey ? newNetworkKey(settings.NETWORK_KEY) : undefined;
  const keyText = freshKey ?? settings.NETWORK_KEY;
  const networkKey = keyText === undefined ? undefined : parseNetworkKey(keyText);
  const store = await openStore(flags.data.db ?? settings.TRACKER_DB, {
    poolSize: settings.TRACKER_DB_POOL,
    onIdleError: (error) => logger.warn({ err: error }, 'an idle database connection failed; it is replaced when needed'),
  });
  let identity;
  try {
    const loaded = await loadOrCreateIdentity(defaultConfigDir(process.env), 'tracker');
    identity = loaded.identity;
    if (loaded.created) logger.info({ identity: identity.id, file: loaded.file }, 'made a new identity for this tracker');
  } catch (error) {
    await store.close();
    throw error;
  }
  // Signals are handled from before the listen, so a stop that arrives right away is still graceful.
  let stopRequested: NodeJS.Signals | undefined;
  let tracker: TrackerServer | undefined;
  let status: StatusServer | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopRequested = signal;
    if (!tracker) return;
    logger.info({ signal }, 'shutting down');
    const running = tracker;
    (async () => {
      await status?.close();
      await running.close();
      await store.close();
    })().then(
      () => process.exit(0),
      (error) => process.exit(reportFatal('tracker', error, settings.LOG_LEVEL)),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const httpPort = flags.data.httpPort ?? settings.TRACKER_HTTP_PORT;
  // Only a watched tracker pays for the watching: timings of every request and database call.
  const metrics = httpPort === undefined ? undefined : new TrackerMetrics(store);
  try {
    tracker = await TrackerServer.start({
      host: flags.data.host ?? settings.TRACKER_HOST,
      port: flags.data.port ?? settings.TRACKER_PORT,
      store: metrics ? timedStore(store, metrics) : store,
      ...(metrics && { observer: metrics }),
      logger,
      transport: tlsTransport({ identity }),
      ...(networkKey && { networkKey }),
      limits: {
        maxFrameBytes: settings.MAX_FRAME_BYTES,
        maxFilesPerShare: settings.MAX_FILES_PER_SHARE,
        maxConnections: settings.TRACKER_MAX_CONNECTIONS,
        maxConnectionsPerAddress: settings.TRACKER_MAX_CONNECTIONS_PER_ADDRESS,
        maxFilesPerAddress: settings.TRACKER_MAX_FILES_PER_ADDRESS,
        maxFilesPerIdentity: settings.TRACKER_MAX_FILES_PER_IDENTITY,
        maxSearchesPerAddress: settings.TRACKER_MAX_SEARCHES_PER_ADDRESS,
        heartbeatMs: settings.HEARTBEAT_INTERVAL,
        peerTimeoutMs: settings.PEER_TIMEOUT,
        searchBudgetMs: settings.SEARCH_BUDGET,
        leaseMs: settings.TRACKER_LEASE,
      },
    });
    if (metrics) {
      const running = tracker;
      const probe = { connections: () => running.connections, serving: () => running.serving };
      metrics.watch(probe);
      const source = { store, metrics, version: TRACKER_VERSION, network: networkKey ? ('private' as const) : ('open' as const), ...probe };
      status = await StatusServer.start(flags.data.httpHost ?? settings.TRACKER_HTTP_HOST, httpPort!, source, logger).catch(async (error: unknown) => {
        await running.close();
        throw error;
      });
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  if (freshKey) announceNewKey(freshKey);
  const addresses = peerAddresses(flags.data.host ?? settings.TRACKER_HOST, tracker.address.port, identity.id);
  logger.info({ identity: identity.id, addresses }, 'peers connect with');
  // On a terminal, the one thing a person needs to hand on, readable without the log.
  if (process.stderr.isTTY) {
    const network = networkKey ? 'private network: peers need NETWORK_KEY' : 'open network';
    process.stderr.write(`Give peers this address (${network}):\n${addresses.map((a) => `  ${a}\n`).join('')}`);
  }
  if (stopRequested) stop(stopRequested);
}

/** A key for `--new-key`, unless one is set already (it would be replaced without a word). */
function newNetworkKey(setting: string | undefined): string {
  if (setting) throw new P2PError('BAD_CONFIG', 'NETWORK_KEY is already set; --new-key would replace it', 'remove NETWORK_KEY from .env and the environment first, or leave out --new-key');
  return generateNetworkKey();
}

/** Shows a new key, this once: on stdout as the .env line, on stderr what to do with it. */
function announceNewKey(key: string): void {
  process.stdout.write(`NETWORK_KEY=${key}\n`);
  process.stderr.write(
    'A new network key: the network is private, only peers that know the key get in. It is shown only this once.\n' +
      'Put the line above in the .env of this tracker (chmod 600 .env) and give it to every member for theirs.\n',
  );
}

const program = new Command('tracker')
  .description('P2PService tracker: knows which peers are online and what they share')
  .version(TRACKER_VERSION)
  .addHelpText('after', settingsHelp(TRACKER_DEFAULTS, TRACKER_SETTINGS_HELP))
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`tracker: ${text.replace(/^error: /, '').trim()} (see \`tracker --help\`)\n`),
  });

program
  .command('start')
  .description('listen for peers (settings from flags, then the environment, then .env, then defaults)')
  .option('--host <host>', 'address to listen on (TRACKER_HOST, default 0.0.0.0)')
  .option('--port <port>', 'TCP port, 0 for a random one (TRACKER_PORT, default 7070)')
  .option('--db <file|url>', 'SQLite database file, or a postgres:// URL shared with other trackers (TRACKER_DB, default tracker.db)')
  .option('--new-key', 'make the network private with a new NETWORK_KEY, printed once')
  .option('--http-port <port>', 'serve /status, /metrics and /healthz over HTTP on this port, 0 for a random one (TRACKER_HTTP_PORT, default off)')
  .option('--http-host <host>', 'address of that HTTP listener (TRACKER_HTTP_HOST, default 127.0.0.1)')
  .action(start);

program
  .command('completion')
  .description('print a completion script: eval "$(tracker completion bash)" in ~/.bashrc (or zsh, ~/.zshrc)')
  .argument('<shell>', 'bash or zsh')
  .action((shell: string) => {
    if (shell !== 'bash' && shell !== 'zsh') throw new P2PError('BAD_CONFIG', `no completion for shell ${JSON.stringify(shell)}`, 'bash or zsh');
    process.stdout.write(completionScript(program, shell));
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.exit(reportFatal('tracker', error, process.env.LOG_LEVEL));
}
