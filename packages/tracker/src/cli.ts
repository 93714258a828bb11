#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { generateNetworkKey, P2PError, parseNetworkKey } from '@p2pservice/protocol';
import { cliLogger, colourOn, completionScript, defaultConfigDir, logFormat, readDotenv, reportFatal, requirePrivateDotenv, settingFlag, settingsHelp } from '@p2pservice/cli';
import { banTarget, bansTable, parseDuration, withBans } from './ban-commands.js';
import { banEnd } from './server/ban-watch.js';
import { loadTrackerSettings, TRACKER_SETTINGS } from './settings/table.js';
import { TRACKER_VERSION } from './server/version.js';
import { type RunningTracker, startTracker } from './start-tracker.js';
import { isPostgresUrl } from './store/open-store.js';

// The CLI only parses flags and settings, makes the logger, and calls the library.

async function start(flags: { newKey?: boolean } & Record<string, unknown>): Promise<void> {
  const dotenv = readDotenv(process.cwd());
  const settings = loadTrackerSettings({ env: process.env, dotenv, flags, flagHint: 'see `tracker start --help`' });
  // A database URL may hold a password: a .env that holds one must be its owner's alone, like a key.
  const { networkKey, db } = TRACKER_SETTINGS;
  requirePrivateDotenv(process.cwd(), dotenv, process.env, isPostgresUrl(dotenv[db.env] ?? '') ? [networkKey.env, db.env] : [networkKey.env]);
  const logger = cliLogger('tracker', settings.logLevel, logFormat(settings.logFormat, process.stderr), colourOn(process.stderr, process.env));
  // Everything that can fail on a bad setting fails before anything is made or printed.
  const freshKey = flags.newKey ? newNetworkKey(settings.networkKey !== undefined) : undefined;
  // Signals are handled from before the listen, so a stop that arrives right away is still graceful.
  let stopRequested: NodeJS.Signals | undefined;
  let tracker: RunningTracker | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopRequested = signal;
    if (!tracker) return;
    logger.info({ signal }, 'shutting down');
    tracker.close().then(
      () => process.exit(0),
      (error) => process.exit(reportFatal('tracker', error, settings.logLevel)),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  tracker = await startTracker(
    { ...settings, ...(freshKey && { networkKey: parseNetworkKey(freshKey) }) },
    { logger, configDir: defaultConfigDir(process.env) },
  );
  if (freshKey) announceNewKey(freshKey);
  logger.info({ identity: tracker.identity.id, addresses: tracker.addresses }, 'peers connect with');
  // On a terminal, the one thing a person needs to hand on, readable without the log.
  if (process.stderr.isTTY) {
    const network = tracker.server.isPrivate ? `private network: peers need ${networkKey.env}` : 'open network';
    process.stderr.write(`Give peers this address (${network}):\n${tracker.addresses.map((a) => `  ${a}\n`).join('')}`);
  }
  if (stopRequested) stop(stopRequested);
}

/** A key for `--new-key`, unless one is set already (it would be replaced without a word). */
function newNetworkKey(alreadySet: boolean): string {
  if (alreadySet) throw new P2PError('BAD_CONFIG', `${TRACKER_SETTINGS.networkKey.env} is already set; --new-key would replace it`, `remove ${TRACKER_SETTINGS.networkKey.env} from .env and the environment first, or leave out --new-key`);
  return generateNetworkKey();
}

/** Shows a new key, this once: on stdout as the .env line, on stderr what to do with it. */
function announceNewKey(key: string): void {
  process.stdout.write(`${TRACKER_SETTINGS.networkKey.env}=${key}\n`);
  process.stderr.write(
    'A new network key: the network is private, only peers that know the key get in. It is shown only this once.\n' +
      'Put the line above in the .env of this tracker (chmod 600 .env) and give it to every member for theirs.\n',
  );
}

const program = new Command('tracker')
  .description('P2PService tracker: knows which peers are online and what they share')
  .version(TRACKER_VERSION)
  .addHelpText('after', settingsHelp(TRACKER_SETTINGS))
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`tracker: ${text.replace(/^error: /, '').trim()} (see \`tracker --help\`)\n`),
  });

program
  .command('start')
  .description('listen for peers (settings from flags, then the environment, then .env, then defaults)')
  .option(...settingFlag(TRACKER_SETTINGS, 'host'))
  .option(...settingFlag(TRACKER_SETTINGS, 'port'))
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .option('--new-key', `make the network private with a new ${TRACKER_SETTINGS.networkKey.env}, printed once`)
  .option(...settingFlag(TRACKER_SETTINGS, 'httpPort'))
  .option(...settingFlag(TRACKER_SETTINGS, 'httpHost'))
  .action(start);

/** The settings of an operator's command: the database it works on, from --db, the environment or .env. */
function operatorSettings(flags: Record<string, unknown>, command: string) {
  const dotenv = readDotenv(process.cwd());
  const settings = loadTrackerSettings({ env: process.env, dotenv, flags, flagHint: `see \`tracker ${command} --help\`` });
  const { db } = TRACKER_SETTINGS;
  if (isPostgresUrl(dotenv[db.env] ?? '')) requirePrivateDotenv(process.cwd(), dotenv, process.env, [db.env]);
  return settings;
}

program
  .command('ban')
  .description("refuse an identity, or an address (an IPv6 address's /64), on every tracker of the network within a second")
  .argument('<target>', 'an identity, or an IP address')
  .option('--for <duration>', 'how long: 90s, 30m, 1h, 7d (default: for good)')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (text: string, flags: { for?: string } & Record<string, unknown>) => {
    const target = banTarget(text);
    const until = flags.for === undefined ? null : Date.now() + parseDuration(flags.for);
    await withBans(operatorSettings(flags, 'ban'), (bans) => bans.ban(target, until, Date.now()));
    process.stdout.write(`banned ${target} ${banEnd({ until })}\n`);
  });

program
  .command('unban')
  .description('lift a ban')
  .argument('<target>', 'the identity or address banned')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (text: string, flags: Record<string, unknown>) => {
    const target = banTarget(text);
    const lifted = await withBans(operatorSettings(flags, 'unban'), (bans) => bans.unban(target));
    if (!lifted) throw new P2PError('NOT_FOUND', `${target} is not banned`, 'see `tracker bans`');
    process.stdout.write(`unbanned ${target}\n`);
  });

program
  .command('bans')
  .description('the bans in force')
  .option('--json', 'as JSON: target, until and since, in ms since the epoch (until null: for good)')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (flags: { json?: boolean } & Record<string, unknown>) => {
    const inForce = await withBans(operatorSettings(flags, 'bans'), (bans) => bans.inForce(Date.now()));
    process.stdout.write(flags.json ? `${JSON.stringify(inForce.map((ban) => ({ target: ban.target, until: ban.until, since: ban.at })))}\n` : bansTable(inForce));
  });

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
  process.exit(reportFatal('tracker', error, process.env[TRACKER_SETTINGS.logLevel.env]));
}
