import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * Whole folders with the built CLIs: a 3-level folder of 200 files held by two peers, fetched with
 * `peer get 'Music/'`, stopped half-way with Ctrl-C (SIGINT), and finished by the same command again.
 */

let root: string;
let env: NodeJS.ProcessEnv;
const files = new Map<string, Buffer>();
/** The ports holder-a and holder-b serve on: one identity (one config folder) sharing from two peers. */
const sharingPorts: number[] = [];
const portOf = (sharingLine: string) => Number(/ on port (\d+)/.exec(sharingLine)![1]);

/** Every file under `dir`, by its path relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

beforeAll(async () => {
  root = tempDir('p2p-folders-');
  const tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
  const first = join(root, 'holder-a');
  for (const artist of ['The Beatles', 'Nina Simone']) {
    for (const album of ['Abbey Road', 'Live']) {
      mkdirSync(join(first, 'Music', artist, album), { recursive: true });
      for (let track = 1; track <= 50; track++) {
        const name = `Music/${artist}/${album}/${String(track).padStart(2, '0')} Track.flac`;
        const data = randomBytes(20_000 + track * 300);
        files.set(name, data);
        writeFileSync(join(first, name), data);
      }
    }
  }
  writeFileSync(join(first, 'elsewhere.txt'), 'not in the folder\n');
  cpSync(first, join(root, 'holder-b'), { recursive: true });
  // Both hold every file, each uploading at 2 MB/s: the folder takes a few seconds, time to stop it.
  for (const holder of ['holder-a', 'holder-b']) {
    const sharing = start(PEER_BIN, ['share', join(root, holder)], { cwd: root, env: { ...env, PEER_MAX_UPLOAD_RATE: '2M' } });
    sharingPorts.push(portOf(await sharing.waitFor(/^sharing 201 files/)));
  }
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('peer browse', () => {
  it('shows the network as folders, one level at a time, sizes summed', async () => {
    mkdirSync(join(root, 'fan'), { recursive: true });
    const top = await run(PEER_BIN, ['browse'], { cwd: join(root, 'fan'), env });
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/^The network\nNAME\s+SIZE\s+FILES\s+HOLDERS\nMusic\/\s+\S+ MiB\s+200 files\s+2\nelsewhere\.txt\s+18 B\s+2\n/);
    const artist = await run(PEER_BIN, ['browse', 'Music/Nina Simone'], { cwd: join(root, 'fan'), env });
    const bytes = (album: string) => [...files].filter(([n]) => n.startsWith(`Music/Nina Simone/${album}/`)).reduce((sum, [, d]) => sum + d.length, 0);
    expect(bytes('Live')).toBeGreaterThan(0);
    expect(artist.stdout).toMatch(/^Music\/Nina Simone\/\nNAME\s+SIZE\s+FILES\s+HOLDERS\nAbbey Road\/\s+\S+ MiB\s+50 files\s+2\nLive\/\s+\S+ MiB\s+50 files\s+2\n\nOpen a folder: peer browse 'Music\/Nina Simone\/Abbey Road\/'; fetch one whole: peer get 'Music\/Nina Simone\/Abbey Road\/'\n$/);
    const json = JSON.parse((await run(PEER_BIN, ['browse', 'Music/Nina Simone/Live/', '--json'], { cwd: join(root, 'fan'), env })).stdout) as { folders: unknown[]; files: { name: string }[] };
    expect(json.folders).toEqual([]);
    expect(json.files.map((f) => f.name)).toEqual([...files.keys()].filter((n) => n.startsWith('Music/Nina Simone/Live/')).sort());
  });
});

describe('peer list --tree', () => {
  it('shows every folder indented, with its files and bytes summed, and each file with its holders', async () => {
    mkdirSync(join(root, 'fan'), { recursive: true });
    const result = await run(PEER_BIN, ['list', '--tree'], { cwd: join(root, 'fan'), env });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SIZE$/);
    expect(lines[1]).toMatch(/^Music\/\s+\S+ MiB\s+200 files$/);
    expect(lines[2]).toMatch(/^ {2}Nina Simone\/\s+\S+ MiB\s+100 files$/);
    expect(lines[3]).toMatch(/^ {4}Abbey Road\/\s+\S+ (K|M)iB\s+50 files$/);
    expect(lines[4]).toMatch(/^ {6}01 Track\.flac\s+20 KiB\s+2 holders$/);
    expect(result.stdout).toMatch(/^elsewhere\.txt\s+18 B\s+2 holders$/m);
    expect(result.stdout).toMatch(/^201 files, \S+ MiB\n$/m);
  });
});

describe('peer get FOLDER/', () => {
  const home = () => join(root, 'fan');

  it('stopped with Ctrl-C half-way: exit 130, what is saved is whole, the rest kept to resume', async () => {
    mkdirSync(home(), { recursive: true });
    const getting = start(PEER_BIN, ['get', 'Music/', '--out', 'downloads'], { cwd: home(), env });
    await getting.waitFor(/^saved downloads\/Music\/.* \(\d+(\.\d)? KiB\)$/);
    await eventually(() => getting.stdout.filter((line) => line.startsWith('saved downloads/')).length >= 20, 15_000);
    getting.child.kill('SIGINT');
    const { code } = await getting.exited;
    expect(code).toBe(130);
    expect(getting.stderr.join('\n')).toMatch(/^peer: stopped: \d+ of 200 files of "Music\/" are saved, the parts of the others kept \(run the same command again to go on\)$/m);
    // What is there besides the parts kept to resume (NAME.SHA.part, its .json and .lock).
    const saved = tree(join(home(), 'downloads')).filter((name) => !/\.part(\.json|\.lock)?$/.test(name));
    expect(saved.length).toBeGreaterThanOrEqual(20);
    expect(saved.length).toBeLessThan(200);
    for (const name of saved) expect(readFileSync(join(home(), 'downloads', name)).equals(files.get(name)!), name).toBe(true);
  });

  it('run again: finishes the folder, structure kept, every file byte for byte, nothing outside it', async () => {
    const result = await run(PEER_BIN, ['get', 'Music/', '--out', 'downloads'], { cwd: home(), env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^saved 200 files of "Music\/" \(\d+(\.\d)? MiB\) in downloads; \d+ there already$/m);
    expect(tree(join(home(), 'downloads'))).toEqual([...files.keys()].sort());
    for (const [name, data] of files) expect(readFileSync(join(home(), 'downloads', name)).equals(data), name).toBe(true);
    expect(existsSync(join(home(), 'downloads', 'elsewhere.txt'))).toBe(false);
  });

  it('takes one album by its path (with --folder, no final slash), from both holders', async () => {
    const result = await run(PEER_BIN, ['get', 'Music/Nina Simone/Live', '--folder', '--out', 'album', '--json'], { cwd: home(), env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { saved: { name: string; result: { holders: { holder: string }[] } }[]; failed: unknown[] };
    expect(report.saved).toHaveLength(50);
    expect(report.failed).toEqual([]);
    expect(new Set(report.saved.flatMap((s) => s.result.holders.map((h) => h.holder))).size).toBe(2);
    expect(tree(join(home(), 'album'))).toEqual([...files.keys()].filter((n) => n.startsWith('Music/Nina Simone/Live/')).map((n) => n.replace('Music/Nina Simone/', '')).sort());
  });

  it('from the menu: 3, then a folder ending in /', async () => {
    const menuHome = join(root, 'menu-fan');
    mkdirSync(menuHome, { recursive: true });
    const result = await run(PEER_BIN, [], { cwd: menuHome, env, input: '3\nMusic/The Beatles/Live/\n4\n', timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('File name, number, or folder ending in / : ');
    expect(result.stdout).toMatch(/^saved 50 files of "Music\/The Beatles\/Live\/" \(\S+ MiB\) in \.$/m);
    expect(tree(join(menuHome, 'Live'))).toHaveLength(50);
    for (const name of tree(join(menuHome, 'Live'))) expect(readFileSync(join(menuHome, 'Live', name)).equals(files.get(`Music/The Beatles/Live/${name}`)!)).toBe(true);
  });

  it('says so in one line when nothing is shared under the folder', async () => {
    const result = await run(PEER_BIN, ['get', 'Music/Nobody/'], { cwd: home(), env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('peer: nothing is shared under "Music/Nobody/" (see `peer browse` for the folders on the network)\n');
  });
});

describe('folder links', () => {
  it('`peer link DIR/` names the folder and its files now; `peer get LINK` fetches it, and says when it has changed', async () => {
    const linker = join(root, 'linker');
    mkdirSync(linker, { recursive: true });
    const made = await run(PEER_BIN, ['link', 'Music/Nina Simone/Live/'], { cwd: linker, env });
    expect(made.code, made.stderr).toBe(0);
    const link = made.stdout.trim();
    expect(link).toMatch(/^p2p:\/\/127\.0\.0\.1:\d+#[A-Z2-7-]{63}\?folder=Music%2FNina%20Simone%2FLive%2F&files=50&digest=[0-9a-f]{64}$/);
    // No tracker set: the link names it.
    const got = await run(PEER_BIN, ['get', link, '--out', 'fetched'], { cwd: linker, env: { ...env, PEER_TRACKER: '' }, timeoutMs: 60_000 });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stderr).toBe('');
    expect(tree(join(linker, 'fetched', 'Live'))).toHaveLength(50);
    // A file added under the folder: the same link fetches what is there now, and says so.
    writeFileSync(join(root, 'holder-a', 'Music', 'Nina Simone', 'Live', '51 Encore.flac'), 'one more\n');
    await eventually(async () => (await run(PEER_BIN, ['list'], { cwd: linker, env })).stdout.includes('51 Encore.flac'), 20_000);
    const again = await run(PEER_BIN, ['get', link, '--out', 'fetched'], { cwd: linker, env: { ...env, PEER_TRACKER: '' }, timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('peer: the folder has changed since the link was made (50 files then, 51 now): fetched what is there now\n');
    expect(readFileSync(join(linker, 'fetched', 'Live', '51 Encore.flac'), 'utf8')).toBe('one more\n');
  });
});

describe('peer browse --holder', () => {
  // Last: the holder it starts would be in every listing of the tests above.
  it("shows one holder's own files, named by HOST:PORT or its identity's start, and names one not online", async () => {
    // Someone else (a config folder, so an identity, of its own) sharing a small folder.
    const mine = join(root, 'holder-c');
    mkdirSync(join(mine, 'Mine', 'sub'), { recursive: true });
    writeFileSync(join(mine, 'Mine', 'a.txt'), 'a\n');
    writeFileSync(join(mine, 'Mine', 'sub', 'b.txt'), 'bb\n');
    mkdirSync(join(root, 'c-home'), { recursive: true });
    const port = portOf(await start(PEER_BIN, ['share', mine], { cwd: join(root, 'c-home'), env }).waitFor(/^sharing 2 files/));
    mkdirSync(join(root, 'fan'), { recursive: true });
    const asFan = { cwd: join(root, 'fan'), env };

    const top = await run(PEER_BIN, ['browse', '--holder', `127.0.0.1:${port}`], asFan);
    expect(top.code, top.stderr).toBe(0);
    const [, start7] = /^Shared by ([A-Z2-7]{7})\n/.exec(top.stdout)!;
    expect(top.stdout).toBe(`Shared by ${start7}\nNAME   SIZE    FILES  HOLDERS\nMine/   5 B  2 files        1\n\nOpen a folder: peer browse --holder '127.0.0.1:${port}' 'Mine/'; fetch one whole: peer get 'Mine/'\n`);
    const level = JSON.parse((await run(PEER_BIN, ['browse', '--holder', start7!.toLowerCase(), 'Mine/', '--json'], asFan)).stdout) as { holder: string; folders: { name: string }[]; files: { name: string }[] };
    expect(level.holder.startsWith(`${start7}-`)).toBe(true);
    expect(level.folders.map((f) => f.name)).toEqual(['sub/']);
    expect(level.files.map((f) => f.name)).toEqual(['Mine/a.txt']);

    // Each of holder-a and holder-b by where it serves; by identity they are one person (one config
    // folder): the files of both, each once.
    const namesOf = async (args: string[]) => {
      const result = await run(PEER_BIN, ['list', '--json', ...args], asFan);
      expect(result.code, result.stderr).toBe(0);
      return { names: (JSON.parse(result.stdout) as { name: string }[]).map((f) => f.name), stderr: result.stderr };
    };
    const a = await namesOf(['--holder', `127.0.0.1:${sharingPorts[0]}`]);
    const b = await namesOf(['--holder', `127.0.0.1:${sharingPorts[1]}`]);
    expect(a.names).toContain('Music/Nina Simone/Live/51 Encore.flac'); // added to holder-a alone, above
    expect(b.names).not.toContain('Music/Nina Simone/Live/51 Encore.flac');
    const shared = /files shared by ([A-Z2-7]{7})/.exec(a.stderr)![1]!;
    const both = await namesOf(['--holder', shared]);
    expect(both.names).toEqual([...new Set([...a.names, ...b.names])].sort());
    expect(both.names).not.toContain('Mine/a.txt');

    const nobody = await run(PEER_BIN, ['browse', '--holder', 'nobody'], asFan);
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toMatch(/^peer: \S+: no online holder is "nobody"; name it HOST:PORT as a download showed it, by its identity \(or its first 7 characters\), or by its member name\n$/);
  });
});
