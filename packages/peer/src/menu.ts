import { createInterface } from 'node:readline';
import { type Address, errorLine, formatAddress, quoted } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { AmbiguousNameError, downloadContent, resolveContent } from './download.js';
import { Progress } from './progress.js';
import { ambiguousTable, downloadSummary, printList, shareSummary, skippedLines, statusLine } from './report.js';
import { type ShareOptions, ShareSession } from './share.js';

export interface MenuOptions {
  tracker: Address;
  host: string;
  port: number;
  maxUploads: number;
  stallTimeoutMs: number;
  /** Reconnection and folder-watching settings for the shares started from the menu. */
  shareTuning: Partial<ShareOptions>;
  logger: Logger;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
}

const MENU = ['1) Get list', '2) Share folder', '3) Download file', '4) Exit'];

/**
 * The interactive menu: loops until Exit (or end of input). Folders shared here keep being served while
 * the menu goes on; Exit says goodbye to the tracker for each of them.
 */
export async function runMenu(options: MenuOptions): Promise<void> {
  const { output, errors } = options;
  const rl = createInterface({ input: options.input, terminal: false });
  // Lines are pulled through the iterator, which buffers them: piped input typed ahead is not lost.
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string): Promise<string | undefined> => {
    output.write(prompt);
    const next = await lines.next();
    return next.done ? undefined : next.value.trim();
  };
  const shares: { dir: string; session: ShareSession }[] = [];
  const say = (text: string) => output.write(text);
  const warn = (error: unknown) => errors.write(`${errorLine('peer', error)}\n`);

  try {
    output.write(`P2PService peer — tracker ${formatAddress(options.tracker)}\n`);
    for (;;) {
      const choice = await ask(`\n${MENU.join('\n')}\nChoose 1-4: `);
      if (choice === undefined || choice === '4' || /^exit$/i.test(choice)) break;
      try {
        if (choice === '1') {
          await printList(options.tracker, false, say);
        } else if (choice === '2') {
          const dir = await ask('Folder to share: ');
          if (!dir) continue;
          if (shares.some((s) => s.dir === dir)) {
            say(`already sharing ${dir}\n`);
            continue;
          }
          const progress = await Progress.start(`indexing ${dir}`);
          const session = await ShareSession.start({
            dir,
            tracker: options.tracker,
            host: options.host,
            port: options.port,
            maxUploads: options.maxUploads,
            logger: options.logger,
            ...options.shareTuning,
            onIndexProgress: (p) => progress.indexing(p),
            onWarning: (line) => errors.write(`peer: ${line}\n`),
            onStatus: (status) => errors.write(statusLine(status)),
          }).finally(() => progress.stop());
          shares.push({ dir, session });
          errors.write(skippedLines(session));
          say(shareSummary(dir, session));
        } else if (choice === '3') {
          const name = await ask('File name: ');
          if (!name) continue;
          let content;
          try {
            content = await resolveContent(options.tracker, name);
          } catch (error) {
            if (!(error instanceof AmbiguousNameError)) throw error;
            say(`${quoted(name)} is shared with ${error.contents.length} different contents:\n${ambiguousTable(error, true)}`);
            const pick = Number(await ask(`Which one? 1-${error.contents.length}: `));
            content = error.contents[pick - 1];
            if (!content) {
              say('no such choice\n');
              continue;
            }
          }
          const progress = await Progress.start(`downloading ${name}`);
          const result = await downloadContent(
            { tracker: options.tracker, name, outDir: '.', logger: options.logger, stallTimeoutMs: options.stallTimeoutMs, onProgress: (p) => progress.download(p), onWaiting: (reason) => progress.waiting(reason) },
            content,
          ).finally(() => progress.stop());
          say(downloadSummary(result));
        } else {
          say('Please answer 1, 2, 3 or 4.\n');
        }
      } catch (error) {
        warn(error);
      }
    }
  } finally {
    rl.close();
    await Promise.allSettled(shares.map((s) => s.session.stop()));
  }
  say('bye\n');
}
