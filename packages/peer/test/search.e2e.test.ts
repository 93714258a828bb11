import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * Search as a new user meets it: three peers share a few thousand realistic names, and the built `peer`
 * finds a song by a partial, accent-free, mixed-case word, excludes a word, filters by size, downloads
 * result 2 by number, and does the same from the menu.
 */

const ARTISTS = ['Nina Simone', 'Miles Davis', 'Björk', 'Sigur Rós', 'Motörhead', 'Beyoncé', 'Dvořák', 'Édith Piaf', 'Ryuichi Sakamoto', 'Os Mutantes'];
const WORDS = ['blue', 'night', 'river', 'heart', 'summer', 'rain', 'golden', 'dream', 'fire', 'highway', 'letter', 'garden', 'winter', 'dance'];

/** About a thousand names for one peer: albums of an artist, tracks of words that never match the tests' queries. */
function filler(peer: number): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let album = 0; album < 80; album++) {
    const artist = ARTISTS[(album + peer) % ARTISTS.length]!;
    const title = `${WORDS[album % WORDS.length]} ${WORDS[(album * 7 + peer) % WORDS.length]}`;
    for (let track = 1; track <= 12; track++) {
      const name = `Music/${artist}/${title} (${1960 + album})/${String(track).padStart(2, '0')} ${WORDS[(track * 3 + album) % WORDS.length]} ${WORDS[(track + peer) % WORDS.length]}.mp3`;
      files[name] = Buffer.from(`${peer} ${name}`);
    }
  }
  return files;
}

const flac = randomBytes(4_000);
const FILES: Record<string, Buffer>[] = [
  { ...filler(0), 'Music/The Beatles/Abbey Road (1969)/01 Come Together.flac': flac },
  { ...filler(1), 'Beatles Tribute/Come Together (Live).mp3': Buffer.from('live take') },
  { ...filler(2), 'Beatles Tribute/Come Together.mp3': Buffer.from('studio cover'), 'Música/Café Tacvba/Re (1994)/05 Ingrata.mp3': Buffer.from('ingrata') },
];

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let root: string;
let env: NodeJS.ProcessEnv;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
const sharers: Running[] = [];

const peer = (args: string[], cwd: string, input?: string) => run(PEER_BIN, args, { cwd, env, ...(input !== undefined && { input }) });
const freshFolder = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
};

beforeAll(async () => {
  root = tempDir();
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
  for (const [i, files] of FILES.entries()) {
    const dir = join(root, `share-${i}`);
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), data);
    }
    const sharer = start(PEER_BIN, ['share', dir], { cwd: root, env });
    sharers.push(sharer);
  }
  await Promise.all(sharers.map((s) => s.waitFor(/^sharing \d+ files /)));
}, 120_000);

afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('peer search', () => {
  it('finds by a partial, accent-free, mixed-case word, excludes a word, filters by size, and gets result 2 by number', async () => {
    const cwd = freshFolder('search-cli');
    const found = await peer(['search', 'BEATL', 'come', '-live'], cwd);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout.split('\n')).toEqual([
      expect.stringMatching(/^#\s+NAME\s+SIZE\s+HOLDERS\s+SHA256$/),
      expect.stringMatching(/^1\s+Beatles Tribute\/Come Together\.mp3\s+12 B\s+1\s+[0-9a-f]{12}$/),
      expect.stringMatching(/^2\s+Music\/The Beatles\/Abbey Road \(1969\)\/01 Come Together\.flac\s+3\.9 KiB\s+1\s+[0-9a-f]{12}$/),
      '2 results for "BEATL come -live"',
      '',
    ]);

    const cafe = await peer(['search', 'cafe', 'ingrata'], cwd);
    expect(cafe.stdout).toContain('Música/Café Tacvba/Re (1994)/05 Ingrata.mp3');

    const big = await peer(['search', 'beatles', '--min-size', '1K'], cwd);
    expect(big.stdout).toMatch(/^1\s+Music\/The Beatles\/.*01 Come Together\.flac/m);
    expect(big.stdout).toContain('1 result for "beatles"');

    // The numbers are those of the last table shown in this folder: the first search's.
    await peer(['search', 'BEATL', 'come', '-live'], cwd);
    const got = await peer(['get', '2'], cwd);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^saved 01 Come Together\.flac \(3\.9 KiB, sha256 [0-9a-f]{12}\) from 127\.0\.0\.1:\d+\n$/);
    expect(sha256(readFileSync(join(cwd, '01 Come Together.flac')))).toBe(sha256(flac));

    const none = await peer(['get', '9'], cwd);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('peer: there is no result 9: the last search for "BEATL come -live" here showed 2 rows (pick 1-2, or search again)\n');
  });

  it('prints only JSON with --json, and filters by type', async () => {
    const cwd = freshFolder('search-json');
    const result = await peer(['search', 'come together', '--type', 'mp3', '--json'], cwd);
    expect(result.code, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as { name: string; holders: number }[];
    expect(rows.map((r) => r.name).sort()).toEqual(['Beatles Tribute/Come Together (Live).mp3', 'Beatles Tribute/Come Together.mp3']);
  });

  it('answers hostile queries with one clear line, and FTS or SQL syntax as plain text', async () => {
    const cwd = freshFolder('search-hostile');
    const refused: Array<[string[], RegExp]> = [
      [['x'.repeat(10_000)], /^peer: the search query is 10000 characters long, more than 256 \(.+\)\n$/],
      [['?!', '--', '"'], /^peer: the search query has nothing to look for \(.+\)\n$/],
      [['song', 'size>10Q'], /^peer: size>10Q: "10Q" is not a size \(.+\)\n$/],
    ];
    for (const [args, line] of refused) {
      const result = await peer(['search', ...args], cwd);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(line);
    }
    for (const query of ['NEAR(beatl', 'beatl*', 'beatl OR x', "x'; DROP TABLE files; --", '{name}:beatl']) {
      const result = await peer(['search', query], cwd);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`Nothing on the network matches "${query}".\n`);
    }
    const afterwards = await peer(['search', 'beatl'], cwd);
    expect(afterwards.stdout).toContain('3 results for "beatl"');
  });

  it('from the menu: 1 with a filter numbers the rows, 3 takes a number', async () => {
    const cwd = freshFolder('search-menu');
    const result = await peer([], cwd, ['1', 'cafe', '3', '1', '4', ''].join('\n'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^1\s+Música\/Café Tacvba\/Re \(1994\)\/05 Ingrata\.mp3\s+7 B\s+1/m);
    expect(result.stdout).toContain('saved 05 Ingrata.mp3 (7 B');
    expect(readFileSync(join(cwd, '05 Ingrata.mp3'), 'utf8')).toBe('ingrata');
  });

  it('says a number means nothing before a table was shown, and that a stale one is stale', async () => {
    const empty = await peer(['get', '1'], freshFolder('search-nothing-shown'));
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^peer: no numbered results were shown in this folder, so 1 means nothing yet \(/);

    const cwd = freshFolder('search-stale');
    expect((await peer(['search', 'come', 'together', 'live'], cwd)).stdout).toContain('1 result for');
    await sharers[1]!.stop('SIGTERM');
    const probe = freshFolder('search-probe');
    await eventually(async () => (await peer(['search', 'come', 'together', 'live'], probe)).stdout.startsWith('Nothing'));
    const stale = await peer(['get', '1'], cwd);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^peer: result 1 \("Beatles Tribute\/Come Together \(Live\)\.mp3", sha256 [0-9a-f]{12}\) is stale: nobody online shares that content under that name any more \(/);
  });
});
