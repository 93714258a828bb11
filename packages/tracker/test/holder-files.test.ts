import { ALL_FEATURES, type Feature, type ListEntry, type TrackerSession } from '@p2pservice/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { testIdentity } from '@p2pservice/test-support/tls';
import { holderSelectors } from '../src/server/holder-files-handler.js';
import { sha, trackerPerTest } from './helpers.js';

/*
 * `holder_files` (feature holder_files): one holder's own files, as Soulseek users browse a user, named
 * by where it serves, by its identity or the start of it, or by its member name.
 */

const net = trackerPerTest();
const session = (name: string, features?: readonly Feature[]) => net.session(name, features);

beforeEach(async () => {
  await net.start();
});

/** A file whose content is told by its first letter (a, b, c or z). */
const file = (name: string) => ({ name, size: name.length, sha256: sha(name[0] === 'z' ? 'd' : name[0]!), root: sha('f') });

async function everyPage(asker: TrackerSession, holder: string, limit: number): Promise<ListEntry[]> {
  const rows: ListEntry[] = [];
  let after = null;
  do {
    const page = await asker.holderFilesPage(holder, after, limit);
    rows.push(...page.files);
    after = page.next;
  } while (after);
  return rows;
}

describe('a holder’s own files', () => {
  it('are listed by its address, or its identity’s start in any case, page by page, and nothing of anyone else', async () => {
    const alice = await session('alice');
    await alice.register(5000, [file('b/two.flac'), file('a/one.flac'), file('c/three.flac')]);
    const bob = await session('bob');
    await bob.register(5001, [file('a/one.flac'), file('z.txt')]);
    const asker = await session('asker');

    const byAddress = await asker.holderFilesPage('127.0.0.1:5000', null);
    expect(byAddress.holder).toBe(testIdentity('alice').id);
    expect(byAddress.files.map((f) => `${f.name} ${f.holders}`)).toEqual(['a/one.flac 2', 'b/two.flac 1', 'c/three.flac 1']);
    expect(byAddress.next).toBeNull();
    const start = testIdentity('alice').id.slice(0, 7).toLowerCase();
    expect((await everyPage(asker, start, 1)).map((f) => f.name)).toEqual(['a/one.flac', 'b/two.flac', 'c/three.flac']);
    expect((await asker.holderFilesPage(testIdentity('bob').id, null)).files.map((f) => f.name)).toEqual(['a/one.flac', 'z.txt']);
  });

  it('are refused with NOT_FOUND, saying how to name a holder, for nobody online; the connection goes on', async () => {
    const asker = await session('asker');
    await expect(asker.holderFilesPage('127.0.0.1:1', null)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no online holder is "127\.0\.0\.1:1".*HOST:PORT/) });
    await expect(asker.holderFilesPage('nobody', null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await asker.listPage(null)).toEqual({ files: [], next: null });
  });

  it('are asked only of a tracker that agreed to the feature', async () => {
    const older = await session('older', ALL_FEATURES.filter((f) => f !== 'holder_files'));
    await expect(older.holderFilesPage('127.0.0.1:5000', null)).rejects.toMatchObject({ code: 'UNEXPECTED_MESSAGE' });
  });

  it('read the text as an address, else as an identity’s start and a member name at once', () => {
    expect(holderSelectors('192.168.1.20:41234')).toEqual([{ host: '192.168.1.20', port: 41234 }]);
    expect(holderSelectors('[fd00::1]:7070')).toEqual([{ host: 'fd00::1', port: 7070 }]);
    expect(holderSelectors('abcdefg-hij')).toEqual([{ identityStart: 'ABCDEFG-HIJ' }, { member: 'abcdefg-hij' }]);
    expect(holderSelectors('ABCDEFG-')).toEqual([{ identityStart: 'ABCDEFG' }, { member: 'ABCDEFG-' }]);
    expect(holderSelectors('alice')).toEqual([{ member: 'alice' }]);
    expect(holderSelectors('ABC')).toEqual([{ member: 'ABC' }]);
  });
});
