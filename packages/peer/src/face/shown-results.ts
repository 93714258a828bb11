import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FileEntry, P2PError, quoted } from '@p2pservice/protocol';
import { z } from 'zod';
import { writeFileAtomically } from '../util/atomic-file.js';

/** A row of a table shown to the user: which content the number on screen stood for. */
const ShownRow = FileEntry.omit({ root: true });
type ShownRow = z.infer<typeof ShownRow>;

/*
 * The numbered rows a person was last shown in a folder (by `peer search` or `peer list`), so that
 * `peer get 3` means row 3 of that table. Each row keeps its sha256: the number always names the exact
 * content that was shown, never whatever carries that name by now. Kept per folder under the XDG state
 * folder, readable by its owner only (it tells what a person looked for).
 */

const ShownFile = z.strictObject({
  folder: z.string(),
  /** What produced the table, for the messages: `search "beat"`, or `list`. */
  source: z.string(),
  shownAt: z.string(),
  rows: z.array(ShownRow),
});
type ShownFile = z.infer<typeof ShownFile>;

/** A row picked by its number. */
export interface PickedRow extends ShownRow {
  number: number;
  source: string;
}

/** Whether an argument is a row number rather than a file name. */
// Every number is a row number (0 included, to be refused as such): a name made only of digits is
// fetched by searching for it and picking its row.
export const isRowNumber = (text: string): boolean => /^[0-9]{1,15}$/.test(text);

export class ShownResults {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly folder: string = process.cwd(),
  ) {
    const key = createHash('sha256').update(resolve(folder)).digest('hex').slice(0, 16);
    this.file = join(stateDir, 'shown', `${key}.json`);
  }

  /** Remembers `rows` as the table shown here now (replacing the last one). */
  async remember(source: string, rows: readonly ShownRow[]): Promise<void> {
    const content: ShownFile = {
      folder: resolve(this.folder),
      source,
      shownAt: new Date().toISOString(),
      rows: rows.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    };
    try {
      await mkdir(join(this.file, '..'), { recursive: true, mode: 0o700 });
      await writeFileAtomically(this.file, JSON.stringify(content), 0o600);
    } catch (error) {
      throw new P2PError('IO_ERROR', `cannot keep the numbered results in ${this.file}: ${(error as Error).message}`, 'check that folder and its permissions', { cause: error });
    }
  }

  /** Row `number` of the last table shown here. */
  async pick(number: number): Promise<PickedRow> {
    if (number < 1) throw new P2PError('NOT_FOUND', `there is no result ${number}: results are numbered from 1`, 'pick a number that `peer search` or `peer list` showed');
    const shown = await this.load();
    if (!shown) {
      throw new P2PError('NOT_FOUND', `no numbered results were shown in this folder, so ${number} means nothing yet`, 'run `peer search WORDS` or `peer list` here first, or give a file name');
    }
    const row = shown.rows[number - 1];
    if (!row && shown.rows.length === 0) {
      throw new P2PError('NOT_FOUND', `there is no result ${number}: the last ${shown.source} here found nothing`, 'search again');
    }
    if (!row) {
      const count = shown.rows.length === 1 ? '1 row' : `${shown.rows.length} rows`;
      throw new P2PError('NOT_FOUND', `there is no result ${number}: the last ${shown.source} here showed ${count}`, `pick 1-${shown.rows.length}, or search again`);
    }
    return { ...row, number, source: shown.source };
  }

  private async load(): Promise<ShownFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new P2PError('IO_ERROR', `cannot read the numbered results in ${this.file}: ${(error as Error).message}`, 'check that file and its permissions', { cause: error });
    }
    const parsed = ShownFile.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new P2PError('IO_ERROR', `the numbered results in ${this.file} are damaged`, `delete that file and run \`peer search\` or \`peer list\` again`);
    }
    return parsed.data;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How a picked row is named in messages: `result 3 ("song.mp3", sha256 9f86d081884c)`. */
export function pickedWords(row: PickedRow): string {
  return `result ${row.number} (${quoted(row.name)}, sha256 ${row.sha256.slice(0, 12)})`;
}
