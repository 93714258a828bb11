import { Command, CommanderError } from 'commander';
import { DEFAULT_SEARCH_RESULTS, P2PError, terminalSafe, parseEndpoint, parseSearchQuery, parseSize, quoted, SIZE_HINT } from '@p2pservice/protocol';
import { reportFatal, setting, settingFlag, settingsHelp, completionScript } from '@p2pservice/cli';
import { z } from 'zod';
import { PEER_VERSION } from '../network/agents.js';
import { wantsColour } from './colour.js';
import { onInterrupt } from './interrupt.js';
import { menuLines, runMenu } from './menu.js';
import { withIndexProgress } from './progress.js';
import { followWishes, wantsTable, wishlistOf } from './wishes.js';
import { type BrowsedHolder, browseTable, holderWords, treeTable } from './browse-lines.js';
import { folderLevel, folderPrefix } from '../download/folder.js';
import { printList, shareSummary, skippedLines, trackerWords, trustedLine } from './report.js';
import { showSearch } from './search-lines.js';
import { joinedSettingsFile, knownTrackersOf } from './node-options.js';
import { askWhichTracker, commandSettings, err, out, parseFlags, peerNode, shownHere } from './command-node.js';
import { get, link } from './get-commands.js';
import { refusedLines, trackerRows, trackersTable } from './lan-choice.js';
import { keepJoined } from '../settings/joined.js';
import { lookOnLan } from '../network/lan-trackers.js';
import { PEER_SETTINGS } from '../settings/table.js';
import { printShareEvents } from './share-lines.js';

// The CLI only parses flags, builds the settings, the logger and the node, and calls the node.

async function share(dir: string, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), port: z.string().optional() }), rawFlags, 'share');
  const { node, settings, logger } = await peerNode(flags, 'share', { mayShare: true });
  // Signals are handled from the start, so a Ctrl-C during indexing or right after start-up is graceful.
  let started = false;
  let stopping = false;
  let stopWishes: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    if (!started) return;
    stopWishes?.();
    node.close().then(
      () => {
        out('stopped sharing\n');
        process.exit(0);
      },
      (error) => process.exit(reportFatal('peer', error, settings.logLevel)),
    );
  };
  onInterrupt(stop);
  printShareEvents(node, err);
  const shared = await withIndexProgress(node, dir, () => node.share(dir));
  started = true;
  err(skippedLines(shared));
  out(shareSummary(shared));
  if (stopping) return stop();
  err('Press Ctrl-C to stop sharing.\n');
  stopWishes = await followWishes(node, settings, process.env, err, logger);
  // Sharing goes on until a signal: a lost tracker is reconnected to, not a reason to stop.
  await new Promise<never>(() => {});
}

async function ui(rawFlags: unknown): Promise<void> {
  const flags = parseFlags(
    z.strictObject({
      tracker: z.string().optional(),
      port: z.string().optional(),
      uiPort: z.string().optional(),
      uiHost: setting.text().optional(),
      share: z.array(z.string()).optional(),
      out: z.string().optional(),
    }),
    rawFlags,
    'ui',
  );
  const { node, settings, logger } = await peerNode(flags, 'ui', { mayShare: true, pageChooses: true });
  printShareEvents(node, err);
  // The web server is loaded only by the command that serves the page.
  const { startUi } = await import('./ui-command.js');
  const server = await startUi({
    node,
    logger,
    choice: { knownTrackers: knownTrackersOf(process.env), joinedFile: joinedSettingsFile(process.env), discover: settings.discover },
    shares: flags.share ?? [],
    uiHost: flags.uiHost ?? '127.0.0.1',
    uiPort: settings.uiPort,
    outDir: flags.out ?? '.',
    out,
    err,
  });
  // The wishlist is followed once there is a network (the page may choose it first).
  let stopWishes: (() => void) | undefined;
  const follow = async () => (stopWishes = await followWishes(node, settings, process.env, err, logger));
  if (node.hasTracker) await follow();
  else node.once('tracker-chosen', () => void follow());
  const stop = () => {
    stopWishes?.();
    Promise.all([server.close(), node.close()]).then(
      () => process.exit(0),
      (error) => process.exit(reportFatal('peer', error, settings.logLevel)),
    );
  };
  onInterrupt(stop);
  await new Promise<never>(() => {});
}

async function list(rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), json: z.boolean().optional(), tree: z.boolean().optional(), holder: z.string().optional() }), rawFlags, 'list');
  if (flags.tree && flags.json) throw new P2PError('BAD_CONFIG', '--tree does not go with --json', 'the JSON list has every path already; or see `peer browse --json`');
  const { node, settings } = await peerNode(flags, 'list');
  node.on('tracker-trusted', (address, id) => err(trustedLine(address, id)));
  // A tracker found on the LAN was named in a line already ("using tracker …").
  if (settings.tracker !== undefined) node.on('tracker-connected', (info) => err(`${trackerWords(info)}\n`));
  let by: { holder: string; member?: string } | undefined;
  // One holder's files (browsing a user): who it is, said once on stderr, before them.
  const files = flags.holder === undefined ? node.list() : node.holderFiles(flags.holder, (who) => err(`files shared by ${holderWords((by = who))}\n`));
  if (flags.tree) return void out(await treeTable(files));
  await printList(files, flags.json ?? false, out, shownHere(), () => (by === undefined ? 'No files are shared on the network yet.' : `${holderWords(by)} shares no files.`));
}

/**
 * `peer join LINK`: connects once (on a members network, redeeming the link's invite makes this peer a
 * member), then keeps the tracker (and a link's network key) in the peer's settings, so that the next
 * commands need no flags.
 */
async function join(link: string, rawFlags: unknown): Promise<void> {
  parseFlags(z.strictObject({}), rawFlags, 'join');
  const tracker = parseEndpoint(link.trim(), 'link');
  const { node } = await peerNode({ tracker: link.trim() }, 'join', { mayShare: true });
  node.on('tracker-trusted', (address, id) => err(trustedLine(address, id)));
  try {
    const info = await node.join();
    const file = joinedSettingsFile(process.env);
    await keepJoined(file, { ...tracker, id: info.id ?? tracker.id! });
    out(`joined ${trackerWords(info)}\n`);
    err(`Kept in ${file}: from now on, peer commands use this tracker with no flags (a --tracker, ${PEER_SETTINGS.tracker.env} or .env still comes first).\n`);
  } finally {
    await node.close();
  }
}

/** `peer browse [PATH]`: the network as folders, one level at a time. */
async function browse(path: string | undefined, rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional(), json: z.boolean().optional(), holder: z.string().optional() }), rawFlags, 'browse');
  const prefix = path === undefined || path.replace(/\/+$/, '') === '' ? '' : folderPrefix(path);
  const { node } = await peerNode(flags, 'browse');
  try {
    let by: BrowsedHolder | undefined;
    const asked = flags.holder;
    const files = asked === undefined ? node.list() : node.holderFiles(asked, (who) => (by = { ...who, asked }));
    const level = await folderLevel(files, prefix);
    const json = by === undefined ? level : { holder: by.holder, ...(by.member !== undefined && { member: by.member }), ...level };
    out(flags.json ? `${JSON.stringify(json)}\n` : browseTable(level, prefix, by));
  } finally {
    await node.close();
  }
}

/** `peer want WORDS` saves a search; `--list` shows the wishlist, `--remove N` takes one off. */
async function want(words: string[], rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ list: z.boolean().optional(), remove: z.string().optional() }), rawFlags, 'want');
  const { settings } = commandSettings({}, 'want');
  const wishlist = wishlistOf(process.env);
  if (flags.remove !== undefined) {
    const removed = await wishlist.remove(flags.remove);
    return void out(`no longer wanted: ${quoted(removed.query)}\n`);
  }
  if (flags.list || words.length === 0) return void out(wantsTable(await wishlist.wants()));
  const query = words.join(' ');
  const wants = await wishlist.add(query);
  out(`wanted: ${quoted(query)} (${wants.length} want${wants.length === 1 ? '' : 's'})\n`);
  err(
    settings.wantDir === undefined
      ? `Set ${PEER_SETTINGS.wantDir.env} to the folder for new matches; then a running \`peer share\` or \`peer ui\` fetches each once.\n`
      : `A running \`peer share\` or \`peer ui\` fetches each new match once into ${terminalSafe(settings.wantDir)}.\n`,
  );
}

/** `peer trackers`: what the LAN announces, as a table or JSON. */
async function trackers(rawFlags: unknown): Promise<void> {
  const flags = parseFlags(z.strictObject({ json: z.boolean().optional() }), rawFlags, 'trackers');
  const { settings, logger } = commandSettings({}, 'trackers');
  if (!settings.discover) throw new P2PError('NO_TRACKER', `looking for trackers on the LAN is off (${PEER_SETTINGS.discover.env}=off)`, `set ${PEER_SETTINGS.discover.env}=on`);
  const knownTrackers = knownTrackersOf(process.env);
  const found = await lookOnLan(knownTrackers, { onIgnored: (why) => logger.debug(why) });
  if (flags.json) return void out(`${JSON.stringify(trackerRows(found))}\n`);
  for (const line of refusedLines(found, knownTrackers.file)) err(line);
  out(trackersTable(found));
}

/** A count typed as digits, refused in words that name the range (not "expected number, received NaN"). */
const wholeNumberFlag = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`));

const sizeFlag = z.string().transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a size; ${SIZE_HINT}` });
  return bytes ?? 0;
});

async function search(words: string[], rawFlags: unknown): Promise<void> {
  const flags = parseFlags(
    z.strictObject({
      tracker: z.string().optional(),
      json: z.boolean().optional(),
      limit: wholeNumberFlag(1, 100_000).optional(),
      minSize: sizeFlag.optional(),
      maxSize: sizeFlag.optional(),
      type: z.string().optional(),
    }),
    rawFlags,
    'search',
  );
  const request = {
    query: words.join(' '),
    ...(flags.minSize !== undefined && { minSize: flags.minSize }),
    ...(flags.maxSize !== undefined && { maxSize: flags.maxSize }),
    ...(flags.type && { extensions: flags.type.split(',').filter(Boolean) }),
  };
  // Checked before anything else, so a mistyped query costs no connection and says what to fix.
  parseSearchQuery(request.query, request);
  const limit = flags.limit ?? DEFAULT_SEARCH_RESULTS;
  const { node } = await peerNode(flags, 'search');
  node.on('tracker-trusted', (address, id) => err(trustedLine(address, id)));
  if (flags.json) {
    const found = await node.search(request, limit);
    // One row per line, as `peer list --json`.
    return void out(found.length ? `[\n${found.map((row) => JSON.stringify(row)).join(',\n')}\n]\n` : '[]\n');
  }
  const colour = wantsColour(process.stdout, process.env);
  await showSearch({ node, request, limit, out, shown: shownHere(), colour, moreHint: 'add words to narrow, or --limit N for more' });
}

async function menu(rawFlags: unknown, command: Command): Promise<void> {
  // Words after `peer` that name no command reach here: say which word, not "too many arguments".
  const [unknown] = command.args;
  if (unknown !== undefined) {
    throw new P2PError('BAD_CONFIG', `unknown command ${quoted(unknown)}`, `the commands are ${program.commands.map((c) => c.name()).join(', ')}; see \`peer --help\``);
  }
  const flags = parseFlags(z.strictObject({ tracker: z.string().optional() }), rawFlags, '');
  const input = process.stdin;
  const typed = menuLines(input);
  const { node } = await peerNode(flags, '', { mayShare: true, chooseTracker: askWhichTracker(typed.lines) });
  const interrupted = new Promise<void>((resolve) => onInterrupt(resolve));
  const shown = shownHere();
  const colour = wantsColour(process.stdout, process.env);
  await Promise.race([runMenu({ node, input, output: process.stdout, errors: process.stderr, shown, colour, lines: typed.lines }), interrupted.then(() => input.destroy())]);
  typed.close();
  await node.close();
  process.exit(0);
}

const program = new Command('peer')
  .description('P2PService peer: share a folder, list the network, download from other peers.\nWith no command: an interactive menu.')
  .version(PEER_VERSION)
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  // Root options only before a command name, so each command's own --tracker is its own.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({
    outputError: (text, write) => write(`peer: ${text.replace(/^error: /, '').trim()} (see \`peer --help\`)\n`),
  })
  .allowExcessArguments()
  .action(menu)
  .addHelpText('after', settingsHelp(PEER_SETTINGS));

program
  .command('share')
  .description('share a folder with the network until Ctrl-C')
  .argument('<dir>', 'folder to share (recursively)')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option(...settingFlag(PEER_SETTINGS, 'port'))
  .action(share);

program
  .command('ui')
  .description('share folders and use the network from a web page on this machine, until Ctrl-C')
  .option('--share <dir>', 'a folder to share from the start (repeat for more; more can be added in the page)', (dir: string, dirs: string[] = []) => [...dirs, dir])
  .option(...settingFlag(PEER_SETTINGS, 'uiPort'))
  .option('--ui-host <address>', 'serve the page on another address (anyone who reaches it and has the URL can use this peer)')
  .option('--out <dir>', 'folder downloads are saved in (default: the current folder)')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option(...settingFlag(PEER_SETTINGS, 'port'))
  .action(ui);

program
  .command('join')
  .description('join a network with its link (`tracker start` or `tracker invite` printed it) and keep it: the next commands need no --tracker')
  .argument('<link>', "the link, p2p://HOST:PORT#IDENTITY (then ?key=… or ?invite=…), in quotes: a shell reads '?' and '&'")
  .action(join);

program
  .command('want')
  .description(`save a search: a running \`peer share\` or \`peer ui\` downloads each new match once into ${PEER_SETTINGS.wantDir.env}`)
  .argument('[words...]', 'what to look for, as `peer search` takes it')
  .option('--list', 'the wishlist, numbered, with how many matches each fetched')
  .option('--remove <n|query>', 'take a want off the wishlist')
  .allowUnknownOption()
  .action(want);

program
  .command('trackers')
  .description('the trackers announced on the LAN: name, network kind, address, and whether this peer knows them')
  .option('--json', 'print a JSON array: name, network, address, id, state (new, known, silent or refused)')
  .action(trackers);

program
  .command('list')
  .description('every file on the network, with size and number of holders')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option('--json', 'print a JSON array on stdout instead of a table')
  .option('--tree', 'as folders: an indented tree, each folder with its files and bytes summed')
  .option('--holder <who>', 'only the files one holder shares: HOST:PORT as `peer get` names it, its identity (or its first 7 characters), or its member name')
  .action(list);

program
  .command('browse')
  .description('the network as folders: what is under PATH (the top when none), folders with their files and sizes summed')
  .argument('[path]', 'a folder, as a previous browse showed it: "Music/The Beatles/"')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option('--json', 'print {folders, files} as JSON')
  .option('--holder <who>', "browse one holder's own files: HOST:PORT as `peer get` names it, its identity (or its first 7 characters), or its member name")
  .action(browse);

program
  .command('search')
  .description('find files by words in their names (`peer get N` then downloads result N)')
  .argument('<words...>', 'what to look for: words (ANDed), "a phrase", -excluded, ext:flac, size>10M, size<2G')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option('--json', 'print the results as a JSON array on stdout instead of a table')
  .option('--limit <n>', `most results to show, best first (default ${DEFAULT_SEARCH_RESULTS})`)
  .option('--min-size <size>', 'only files at least this big: 700, 10M, 1.5G')
  .option('--max-size <size>', 'only files at most this big')
  .option('--type <ext>', 'only these extensions: flac, or flac,mp3')
  // "-live" is a word to exclude, not an option.
  .allowUnknownOption()
  .action(search);

program
  .command('get')
  .description(`download a file straight from the peers that hold it (up to ${PEER_SETTINGS.maxSources.env} at once), every piece verified`)
  .argument('<file>', 'file name as `peer list` shows it, a folder ending in / (every file under it), the number of a row that `peer search` or `peer list` showed in this folder, or a link from `peer link` (in quotes)')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option('--out <dir>', 'folder to save into (created if missing)', undefined)
  .option('--force', 'replace a different file already at the target')
  .option('--sha256 <prefix>', 'pick one content when several share the name')
  .option('--json', 'print the result as JSON: path, size, sha256, the holders the bytes came from, and the holders left out and why')
  .option('--seed', 'once the file is here, keep serving it to others until Ctrl-C')
  .option('--folder', 'the name is a folder: download every file under it (a name ending in / is one too)')
  .action(get);

program
  .command('link')
  .description('print a link that names exactly one content (its sha256, size, name and the tracker): `peer get LINK` fetches it, renamed or not')
  .argument('<file>', 'file name as `peer list` shows it, or the number of a row that `peer search` or `peer list` showed in this folder')
  .option(...settingFlag(PEER_SETTINGS, 'tracker'))
  .option('--sha256 <prefix>', 'pick one content when several share the name')
  .action(link);

program
  .command('completion')
  .description('print a completion script: eval "$(peer completion bash)" in ~/.bashrc (or zsh, ~/.zshrc)')
  .argument('<shell>', 'bash or zsh')
  .action((shell: string) => {
    if (shell !== 'bash' && shell !== 'zsh') throw new P2PError('BAD_CONFIG', `no completion for shell ${JSON.stringify(shell)}`, 'bash or zsh');
    out(completionScript(program, shell));
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.exit(reportFatal('peer', error, process.env[PEER_SETTINGS.logLevel.env]));
}
