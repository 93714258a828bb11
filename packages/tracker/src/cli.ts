#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { P2PError } from '@p2pservice/protocol';
import { readDotenv, reportFatal, setting } from '@p2pservice/protocol/cli';
import { pino } from 'pino';
import { z } from 'zod';
import { loadTrackerSettings } from './config.js';
import { TrackerServer } from './server/tracker-server.js';
import { SqliteStore } from './store/sqlite-store.js';
import { TRACKER_VERSION } from './version.js';

// The CLI only parses flags, builds the config, the logger and the store, and calls the library.

const StartFlags = z.strictObject({
  host: setting.text().optional(),
  port: setting.port().optional(),
  db: setting.text().optional(),
});

async function start(rawFlags: unknown): Promise<void> {
  const flags = StartFlags.safeParse(rawFlags);
  if (!flags.success) throw new P2PError('BAD_CONFIG', `invalid flag: ${flags.error.issues[0]?.path.join('.')} ${flags.error.issues[0]?.message}`, 'see `tracker start --help`');
  const settings = loadTrackerSettings(process.env, readDotenv(process.cwd()));
  const logger = pino({ name: 'tracker', level: settings.LOG_LEVEL }, pino.destination({ dest: 2, sync: true }));
  const store = await SqliteStore.open(flags.data.db ?? settings.TRACKER_DB);
  // Signals are handled from before the listen, so a stop that arrives right away is still graceful.
  let stopRequested: NodeJS.Signals | undefined;
  let tracker: TrackerServer | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopRequested = signal;
    if (!tracker) return;
    logger.info({ signal }, 'shutting down');
    const running = tracker;
    (async () => {
      await running.close();
      await store.close();
    })().then(
      () => process.exit(0),
      (error) => process.exit(reportFatal('tracker', error, settings.LOG_LEVEL)),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    tracker = await TrackerServer.start({
      host: flags.data.host ?? settings.TRACKER_HOST,
      port: flags.data.port ?? settings.TRACKER_PORT,
      store,
      logger,
      limits: {
        maxFrameBytes: settings.MAX_FRAME_BYTES,
        maxFilesPerShare: settings.MAX_FILES_PER_SHARE,
        maxConnections: settings.TRACKER_MAX_CONNECTIONS,
        maxConnectionsPerAddress: settings.TRACKER_MAX_CONNECTIONS_PER_ADDRESS,
        heartbeatMs: settings.HEARTBEAT_INTERVAL,
        peerTimeoutMs: settings.PEER_TIMEOUT,
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  if (stopRequested) stop(stopRequested);
}

const program = new Command('tracker')
  .description('P2PService tracker: knows which peers are online and what they share')
  .version(TRACKER_VERSION)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`tracker: ${text.replace(/^error: /, '').trim()} (see \`tracker --help\`)\n`),
  });

program
  .command('start')
  .description('listen for peers (settings from flags, then the environment, then .env, then defaults)')
  .option('--host <host>', 'address to listen on (TRACKER_HOST, default 0.0.0.0)')
  .option('--port <port>', 'TCP port, 0 for a random one (TRACKER_PORT, default 7070)')
  .option('--db <file>', 'SQLite database file (TRACKER_DB, default tracker.db)')
  .action(start);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.exit(reportFatal('tracker', error, process.env.LOG_LEVEL));
}
