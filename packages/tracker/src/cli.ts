#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { generateNetworkKey, identityFile, loadOrCreateIdentity, P2PError, parseAddress, parseEndpoint, parseNetworkKey } from '@p2pservice/protocol';
import { cliLogger, colourOn, completionScript, defaultConfigDir, logFormat, readDotenv, reportFatal, requirePrivateDotenv, settingFlag, settingsHelp } from '@p2pservice/cli';
import { banTarget, bansTable } from './ban-commands.js';
import { operatorName, parseDuration, withStore } from './operator-store.js';
import { findMember, inviteUses, invitesTable, logTable, makeInvite, memberName, membersTable } from './member-commands.js';
import { peerAddresses } from './addresses.js';
import { banEnd } from './server/ban-watch.js';
import { loadTrackerSettings, networkKindOf, TRACKER_SETTINGS } from './settings/table.js';
import { TRACKER_VERSION } from './server/version.js';
import { type RunningTracker, startTracker } from './start-tracker.js';
import { joinLinks, terminalQr } from './join-link.js';
import { isPostgresUrl } from './store/open-store.js';

// The CLI only parses flags and settings, makes the logger, and calls the library.

async function start(flags: { newKey?: boolean } & Record<string, unknown>): Promise<void> {
  const dotenv = readDotenv(process.cwd());
  const settings = loadTrackerSettings({ env: process.env, dotenv, flags, flagHint: 'see `tracker start --help`' });
  // A database URL may hold a password: a .env that holds one must be its owner's alone, like a key.
  const { networkKey, db } = TRACKER_SETTINGS;
  const unchecked = requirePrivateDotenv(process.cwd(), dotenv, process.env, isPostgresUrl(dotenv[db.env] ?? '') ? [networkKey.env, db.env] : [networkKey.env]);
  const logger = cliLogger('tracker', settings.logLevel, logFormat(settings.logFormat, process.stderr), colourOn(process.stderr, process.env));
  if (unchecked) logger.warn(unchecked);
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
  if (process.stderr.isTTY) await showHowToJoin(tracker, settings.networkKey ?? (freshKey === undefined ? undefined : parseNetworkKey(freshKey)));
  if (stopRequested) stop(stopRequested);
}

/** What a person at the tracker's terminal hands on: the join link, and on a LAN nothing at all. */
async function showHowToJoin(tracker: RunningTracker, networkKey: Buffer | undefined): Promise<void> {
  const network = tracker.server.network;
  const links = joinLinks(tracker.addresses, network, networkKey);
  if (links.length === 0) {
    process.stderr.write(`Members network: each peer joins with a link from \`tracker invite\`. Addresses:\n${tracker.addresses.map((a) => `  ${a}\n`).join('')}`);
  } else {
    const words = network === 'key' ? 'private network; the link holds its key, give it only to members' : 'open network';
    process.stderr.write(`Peers join with this link (${words}): peer join '<link>'\n${links.map((link) => `  ${link}\n`).join('')}${await terminalQr(links[0]!)}`);
  }
  const announced = await tracker.announcement;
  if (announced) process.stderr.write(`Announced on the LAN as "${announced.name}": peers there need no address (peer share DIR finds it).\n`);
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
  .option(...settingFlag(TRACKER_SETTINGS, 'network'))
  .option(...settingFlag(TRACKER_SETTINGS, 'name'))
  .option('--new-key', `make the network private with a new ${TRACKER_SETTINGS.networkKey.env}, printed once`)
  .option(...settingFlag(TRACKER_SETTINGS, 'httpPort'))
  .option(...settingFlag(TRACKER_SETTINGS, 'httpHost'))
  .action(start);

/** The settings of an operator's command: the database it works on, from --db, the environment or .env. */
function operatorSettings(flags: Record<string, unknown>, command: string) {
  const dotenv = readDotenv(process.cwd());
  const settings = loadTrackerSettings({ env: process.env, dotenv, flags, flagHint: `see \`tracker ${command} --help\`` });
  const { db } = TRACKER_SETTINGS;
  const unchecked = isPostgresUrl(dotenv[db.env] ?? '') ? requirePrivateDotenv(process.cwd(), dotenv, process.env, [db.env]) : undefined;
  if (unchecked) process.stderr.write(`tracker: ${unchecked}\n`);
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
    await withStore(operatorSettings(flags, 'ban'), async (store) => {
      await store.bans.ban(target, until, Date.now());
      await store.members.record({ at: Date.now(), event: 'ban', subject: target, detail: `${banEnd({ until })}, by ${operatorName()}` });
    });
    process.stdout.write(`banned ${target} ${banEnd({ until })}\n`);
  });

program
  .command('unban')
  .description('lift a ban')
  .argument('<target>', 'the identity or address banned')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (text: string, flags: Record<string, unknown>) => {
    const target = banTarget(text);
    const lifted = await withStore(operatorSettings(flags, 'unban'), async (store) => {
      const done = await store.bans.unban(target);
      if (done) await store.members.record({ at: Date.now(), event: 'unban', subject: target, detail: `by ${operatorName()}` });
      return done;
    });
    if (!lifted) throw new P2PError('NOT_FOUND', `${target} is not banned`, 'see `tracker bans`');
    process.stdout.write(`unbanned ${target}\n`);
  });

program
  .command('bans')
  .description('the bans in force')
  .option('--json', 'as JSON: target, until and since, in ms since the epoch (until null: for good)')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (flags: { json?: boolean } & Record<string, unknown>) => {
    const inForce = await withStore(operatorSettings(flags, 'bans'), (store) => store.bans.inForce(Date.now()));
    process.stdout.write(flags.json ? `${JSON.stringify(inForce.map((ban) => ({ target: ban.target, until: ban.until, since: ban.at })))}\n` : bansTable(inForce));
  });

/**
 * The settings of a command that only matters on a members network. The running tracker may have been
 * started with --network members while .env says otherwise, so a mismatch is said, not refused.
 */
function membersSettings(flags: Record<string, unknown>, command: string) {
  const settings = operatorSettings(flags, command);
  const kind = networkKindOf(settings);
  if (kind !== 'members') {
    process.stderr.write(`tracker: note: the settings here make a${kind === 'open' ? 'n' : ''} ${kind} network; invites admit peers only to a tracker started with ${TRACKER_SETTINGS.network.env}=members (or --network members)\n`);
  }
  return settings;
}

program
  .command('invite')
  .description('invite someone to a members network: prints a join link for `peer join` (and a QR code on a terminal)')
  .option('--name <name>', 'the name the new member gets (default: the start of its identity)')
  .option('--uses <n>', 'how many peers may join with it', '1')
  .option('--expires <duration>', 'how long it works: 30m, 12h, 7d, or never', '7d')
  .option('--address <host:port>', `where peers reach the tracker (default: from ${TRACKER_SETTINGS.host.env} and ${TRACKER_SETTINGS.port.env})`)
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (flags: { name?: string; uses: string; expires: string; address?: string } & Record<string, unknown>) => {
    const settings = membersSettings(flags, 'invite');
    const name = flags.name === undefined ? undefined : memberName(flags.name);
    const uses = inviteUses(flags.uses);
    const now = Date.now();
    const expiresAt = flags.expires === 'never' ? null : now + parseDuration(flags.expires, '--expires');
    const configDir = defaultConfigDir(process.env);
    if (!existsSync(identityFile(configDir, 'tracker'))) {
      throw new P2PError('BAD_CONFIG', `no tracker identity in ${configDir}`, 'run this as the user that runs `tracker start`, after starting it once');
    }
    const { identity } = await loadOrCreateIdentity(configDir, 'tracker');
    const address = flags.address === undefined ? parseEndpoint(peerAddresses(settings.host, settings.port, identity.id)[0]!) : parseAddress(flags.address, '--address');
    const made = await withStore(settings, (store) => makeInvite(store, identity, address, { name, uses, expiresAt, by: operatorName(), now }));
    process.stdout.write(`${made.link}\n`);
    if (process.stderr.isTTY) {
      // The QR code library is loaded only by the command that draws one.
      const { showInvite } = await import('./show-invite.js');
      process.stderr.write(await showInvite(made.invite, made.link));
    }
  });

program
  .command('invites')
  .description('the invites that can still be used')
  .option('--json', 'as JSON: id, name, usesLeft, expiresAt, createdAt (ms since the epoch), createdBy')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (flags: { json?: boolean } & Record<string, unknown>) => {
    const open = await withStore(operatorSettings(flags, 'invites'), (store) => store.members.invites(Date.now()));
    process.stdout.write(flags.json ? `${JSON.stringify(open.map(({ secret: _secret, ...invite }) => invite))}\n` : invitesTable(open));
  });

program
  .command('uninvite')
  .description('withdraw an invite, so that nobody can join with it any more')
  .argument('<invite>', 'the invite id, as `tracker invites` shows it')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (id: string, flags: Record<string, unknown>) => {
    const done = await withStore(operatorSettings(flags, 'uninvite'), (store) => store.members.uninvite(id.toUpperCase(), Date.now(), operatorName()));
    if (!done) throw new P2PError('NOT_FOUND', `there is no invite ${JSON.stringify(id.slice(0, 40))}`, 'see `tracker invites`');
    process.stdout.write(`withdrew invite ${id.toUpperCase()}\n`);
  });

program
  .command('members')
  .description("the network's members: online or not, files shared, last seen")
  .option('--json', 'as JSON: identity, name, invitedBy, joinedAt, lastSeen, revokedAt (ms since the epoch, or null), online, files')
  .option('--log', 'the audit log instead: joins, invites, revocations and bans')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (flags: { json?: boolean; log?: boolean } & Record<string, unknown>) => {
    await withStore(operatorSettings(flags, 'members'), async (store) => {
      if (flags.log) {
        const entries = await store.members.log(0, 1_000_000);
        process.stdout.write(flags.json ? `${JSON.stringify(entries)}\n` : logTable(entries));
        return;
      }
      const [members, online] = await Promise.all([store.members.members(), store.members.online()]);
      const rows = members.map((m) => ({ ...m, online: m.revokedAt === null && online.has(m.identity), files: online.get(m.identity) ?? 0 }));
      process.stdout.write(flags.json ? `${JSON.stringify(rows)}\n` : membersTable(rows));
    });
  });

program
  .command('revoke')
  .description('remove a member at once: its connections close, its files leave the list, holders stop serving it within a ticket lifetime')
  .argument('<member>', 'its name or identity, as `tracker members` shows it')
  .option(...settingFlag(TRACKER_SETTINGS, 'db'))
  .action(async (target: string, flags: Record<string, unknown>) => {
    const member = await withStore(operatorSettings(flags, 'revoke'), async (store) => {
      const found = findMember(await store.members.members(), target);
      if (found.revokedAt !== null || !(await store.members.revoke(found.identity, Date.now(), operatorName()))) {
        throw new P2PError('NOT_FOUND', `${found.name} (${found.identity}) was revoked already`, 'see `tracker members`');
      }
      return found;
    });
    process.stdout.write(`revoked ${member.name} (${member.identity})\n`);
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
