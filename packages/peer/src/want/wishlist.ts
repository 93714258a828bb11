import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { P2PError, parseSearchQuery, quoted } from '@p2pservice/protocol';
import { z } from 'zod';
import { writeFileAtomically } from '../util/atomic-file.js';

/** Most saved searches: each costs the tracker one search per round (mind SEARCH_BUDGET and the quota). */
export const MAX_WANTS = 32;
/** Contents remembered as fetched per want, newest kept: a match is fetched once, not again. */
export const MAX_FETCHED_PER_WANT = 10_000;

const Want = z.object({ query: z.string(), added: z.number(), fetched: z.array(z.string()) });
const Wants = z.object({ wants: z.array(Want) });
export type Want = z.infer<typeof Want>;

/**
 * The wishlist: saved searches (`peer want`), each with the contents already fetched for it, kept in one
 * file of the config folder (owner-only, written whole). A running `peer share` or `peer ui` reads it
 * every round, so a want added or removed meanwhile counts from the next round.
 */
export class Wishlist {
  constructor(readonly file: string) {}

  async wants(): Promise<Want[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new P2PError('IO_ERROR', `cannot read the wishlist ${this.file}: ${(error as Error).message}`, 'check its permissions');
    }
    const parsed = Wants.safeParse(JSON.parse(text || '{"wants":[]}'));
    if (!parsed.success) throw new P2PError('BAD_CONFIG', `the wishlist ${this.file} is damaged`, 'delete it and add the wants again');
    return parsed.data.wants;
  }

  /** Adds a saved search, checked as any search is; a query there already is not added twice. */
  async add(query: string, now = Date.now()): Promise<Want[]> {
    parseSearchQuery(query);
    const wants = await this.wants();
    if (wants.some((w) => w.query === query)) throw new P2PError('BAD_CONFIG', `${quoted(query)} is wanted already`, 'see `peer want --list`');
    if (wants.length >= MAX_WANTS) throw new P2PError('BAD_CONFIG', `the wishlist holds ${MAX_WANTS} wants at most`, 'remove one with `peer want --remove N`');
    wants.push({ query, added: now, fetched: [] });
    await this.save(wants);
    return wants;
  }

  /** Removes a want by its number in `--list` or its query; the removed one. */
  async remove(which: string): Promise<Want> {
    const wants = await this.wants();
    const index = /^[0-9]+$/.test(which) ? Number(which) - 1 : wants.findIndex((w) => w.query === which);
    const removed = wants[index];
    if (!removed) throw new P2PError('NOT_FOUND', `there is no want ${quoted(which)}`, 'see `peer want --list`');
    wants.splice(index, 1);
    await this.save(wants);
    return removed;
  }

  /** Remembers that `sha256` was fetched for `query` (a want removed meanwhile stays removed). */
  async fetched(query: string, sha256: string): Promise<void> {
    const wants = await this.wants();
    const want = wants.find((w) => w.query === query);
    if (!want || want.fetched.includes(sha256)) return;
    want.fetched = [...want.fetched, sha256].slice(-MAX_FETCHED_PER_WANT);
    await this.save(wants);
  }

  private async save(wants: Want[]): Promise<void> {
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFileAtomically(this.file, `${JSON.stringify({ wants }, null, 1)}\n`, 0o600);
    } catch (error) {
      throw new P2PError('IO_ERROR', `cannot write the wishlist ${this.file}: ${(error as Error).message}`, 'check that the folder is writable (XDG_CONFIG_HOME)');
    }
  }
}
