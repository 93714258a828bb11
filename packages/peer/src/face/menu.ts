import { createInterface } from 'node:readline';
import { DEFAULT_SEARCH_RESULTS, quoted } from '@p2pservice/protocol';
import { errorLine } from '@p2pservice/cli';
import { AmbiguousNameError } from '../download/resolve.js';
import type { PeerNode } from '../node.js';
import { resolvePicked } from './picked-download.js';
import { withDownloadProgress, withIndexProgress } from './progress.js';
import { ambiguousTable, downloadSummary, folderSummary, printList, shareSummary, skippedLines, trackerWords } from './report.js';
import { showSearch } from './search-lines.js';
import { printShareEvents } from './share-lines.js';
import { isRowNumber, type ShownResults } from './shown-results.js';

export interface MenuOptions {
  node: PeerNode;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
  /** Where the numbered rows shown are remembered (the same place `peer get N` reads). */
  shown: ShownResults;
  /** Highlight search matches in colour. */
  colour: boolean;
  /** The lines typed, when something before the menu read some already (menuLines). */
  lines?: AsyncIterator<string>;
}

/**
 * The lines typed at the menu, pulled through one iterator that buffers them: piped input typed ahead is
 * not lost, even when a question before the menu (which tracker?) reads the first one.
 */
export function menuLines(input: NodeJS.ReadableStream): { lines: AsyncIterator<string>; close(): void } {
  const rl = createInterface({ input, terminal: false });
  return { lines: rl[Symbol.asyncIterator](), close: () => rl.close() };
}

const MENU = ['1) Get list', '2) Share folder', '3) Download file', '4) Exit'];

/**
 * The interactive menu: loops until Exit (or end of input). Folders shared here keep being served while
 * the menu goes on; Exit stops them, saying goodbye to the tracker for each.
 */
export async function runMenu({ node, input, output, errors, shown, colour, lines: given }: MenuOptions): Promise<void> {
  const own = given ? undefined : menuLines(input);
  const lines = given ?? own!.lines;
  const say = (text: string) => output.write(text);
  const tell = (text: string) => errors.write(text);
  const ask = async (prompt: string): Promise<string | undefined> => {
    say(prompt);
    const next = await lines.next();
    return next.done ? undefined : next.value.trim();
  };
  printShareEvents(node, tell);
  node.on('tracker-connected', (info) => say(`${trackerWords(info)}\n`));

  const shareFolder = async () => {
    const dir = await ask('Folder to share: ');
    if (!dir) return;
    if (node.isSharing(dir)) return say(`already sharing ${dir}\n`);
    const shared = await withIndexProgress(node, dir, () => node.share(dir));
    tell(skippedLines(shared));
    say(shareSummary(shared));
  };

  // Enter alone lists everything; anything else is a search (the query language of `peer search`).
  const getList = async () => {
    const filter = await ask('Filter (words, "a phrase", -word, ext:flac, size>10M; Enter for everything): ');
    if (filter === undefined) return;
    if (filter === '') return void (await printList(node.list(), false, say, shown));
    await showSearch({ node, request: { query: filter }, limit: DEFAULT_SEARCH_RESULTS, out: say, shown, colour, moreHint: 'add words to narrow' });
  };

  const downloadFile = async () => {
    const answer = await ask('File name, number, or folder ending in / : ');
    if (!answer) return;
    // A folder: every file under it, its structure kept here.
    if (answer.endsWith('/')) {
      const result = await node.downloadFolder({ path: answer, outDir: '.' }, undefined, { saved: (_name, saved) => say(`saved ${saved.path}\n`) });
      for (const failed of result.failed) tell(`peer: could not fetch ${quoted(failed.name)}: ${failed.error}\n`);
      return say(folderSummary(result, '.'));
    }
    // A number is a row of the last table shown (here, or by `peer search` / `peer list` in this folder).
    if (isRowNumber(answer)) {
      const row = await shown.pick(Number(answer));
      const content = await resolvePicked(node, row);
      const result = await withDownloadProgress(node, row.name, () => node.download({ name: row.name, outDir: '.', content }));
      return say(downloadSummary(result));
    }
    const name = answer;
    let content;
    try {
      content = await node.resolve(name);
    } catch (error) {
      if (!(error instanceof AmbiguousNameError)) throw error;
      say(`${quoted(name)} is shared with ${error.contents.length} different contents:\n${ambiguousTable(error, true)}`);
      const pick = Number(await ask(`Which one? 1-${error.contents.length}: `));
      content = error.contents[pick - 1];
      if (!content) return say('no such choice\n');
    }
    const chosen = content;
    const result = await withDownloadProgress(node, name, () => node.download({ name, outDir: '.', content: chosen }));
    say(downloadSummary(result));
  };

  try {
    say(`P2PService peer — tracker ${node.tracker}\n`);
    for (;;) {
      const choice = await ask(`\n${MENU.join('\n')}\nChoose 1-4: `);
      if (choice === undefined || choice === '4' || /^exit$/i.test(choice)) break;
      try {
        if (choice === '1') await getList();
        else if (choice === '2') await shareFolder();
        else if (choice === '3') await downloadFile();
        else say('Please answer 1, 2, 3 or 4.\n');
      } catch (error) {
        tell(`${errorLine('peer', error)}\n`);
      }
    }
  } finally {
    own?.close();
    await node.close();
  }
  say('bye\n');
}
