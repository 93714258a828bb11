import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  killAll,
  PEER_BIN,
  removeDir,
  run,
  type Running,
  start,
  startTrackerCli,
  tempDir,
} from '@p2pservice/test-support/processes';
import { killTerminals, startOnTerminal } from '@p2pservice/test-support/terminal';

/*
 * End to end, as a user runs it: the built `tracker` and `peer` CLIs as child processes, real TCP on
 * loopback, real folders. Two peers share; a third process lists and downloads.
 */

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let env: NodeJS.ProcessEnv;
const sharers: Running[] = [];

const filesA: Record<string, Buffer> = {
  'nested/deep/a.txt': Buffer.from('alpha\n'),
  'ünïcode 名前 🎵.txt': Buffer.from('unicode content\n'),
  'empty.bin': Buffer.alloc(0),
  'big.bin': randomBytes(6 * 1024 * 1024 + 123),
  'same.txt': Buffer.from('identical on both peers\n'),
  'clash.txt': Buffer.from('version from A\n'),
};
const filesB: Record<string, Buffer> = {
  'b.txt': Buffer.from('bravo\n'),
  'same.txt': Buffer.from('identical on both peers\n'),
  'clash.txt': Buffer.from('version from B, longer\n'),
};

function writeTree(dir: string, files: Record<string, Buffer>): void {
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
}

async function share(dir: string): Promise<Running> {
  const sharer = start(PEER_BIN, ['share', dir], { cwd: root, env });
  await sharer.waitFor(/^sharing \d+ files? /);
  sharers.push(sharer);
  return sharer;
}

const peer = (args: string[], options: { cwd?: string; input?: string } = {}) => run(PEER_BIN, args, { cwd: options.cwd ?? root, env, input: options.input });

async function listJson(): Promise<{ name: string; size: number; sha256: string; holders: number }[]> {
  const result = await peer(['list', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** Bounded wait for the list to satisfy `check` (a departure is applied as the socket closes). */
async function listEventually(check: (names: Map<string, number>) => boolean, ms = 5000): Promise<Map<string, number>> {
  const until = Date.now() + ms;
  for (;;) {
    const list = await listJson();
    const byName = new Map(list.map((e) => [`${e.name}@${e.sha256.slice(0, 8)}`, e.holders]));
    if (check(byName)) return byName;
    if (Date.now() > until) throw new Error(`list never converged: ${JSON.stringify([...byName])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  root = tempDir();
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
  env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
  writeTree(join(root, 'A'), filesA);
  writeTree(join(root, 'B'), filesB);
  symlinkSync('/etc/hostname', join(root, 'A', 'outside-link'));
  await share(join(root, 'A'));
  await share(join(root, 'B'));
});

afterAll(async () => {
  killTerminals();
  await killAll();
  removeDir(root);
});

describe('peer list', () => {
  it('--json prints exactly one object per (name, sha256) with exact sizes, hashes and holder counts', async () => {
    const expected = new Map<string, { name: string; size: number; sha256: string; holders: number }>();
    for (const files of [filesA, filesB]) {
      for (const [name, data] of Object.entries(files)) {
        const key = `${name}@${sha256(data)}`;
        const seen = expected.get(key);
        if (seen) seen.holders++;
        else expected.set(key, { name, size: data.length, sha256: sha256(data), holders: 1 });
      }
    }
    const list = await listJson();
    const sortKey = (e: { name: string; sha256: string }) => `${e.name}\u0000${e.sha256}`;
    expect([...list].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      [...expected.values()].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
    expect(list.some((e) => e.name === 'outside-link')).toBe(false);
  });

  it('prints a readable table with human sizes on stdout and nothing else', async () => {
    const result = await peer(['list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^#\s+NAME\s+SIZE\s+HOLDERS\s+SHA256\n1\s/);
    expect(result.stdout).toMatch(/big\.bin\s+6\.0 MiB\s+1\s+[0-9a-f]{12}\n/);
    expect(result.stdout).toMatch(/same\.txt\s+24 B\s+2\s+/);
    expect(result.stdout).toContain('ünïcode 名前 🎵.txt');
    expect(result.stdout).toMatch(/\n8 files, 6\.0 MiB\n$/);
  });

  it('fails within a few seconds naming the tracker address when the tracker is unreachable', async () => {
    const started = Date.now();
    const result = await peer(['list', '--tracker', '127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('peer: cannot connect to 127.0.0.1:1: connection refused\n');
    expect(result.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('peer get', () => {
  it('downloads byte-identical files, saved under their base name, leaving nothing else', async () => {
    const out = join(root, 'get-out');
    for (const name of ['big.bin', 'nested/deep/a.txt', 'ünïcode 名前 🎵.txt', 'empty.bin']) {
      const result = await peer(['get', name, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      const base = name.split('/').pop()!;
      expect(result.stdout).toMatch(new RegExp(`^saved ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
      expect(readFileSync(join(out, base)).equals(filesA[name]!)).toBe(true);
    }
    expect(readdirSync(out).sort()).toEqual(['a.txt', 'big.bin', 'empty.bin', 'ünïcode 名前 🎵.txt'].sort());
  });

  it('serves eight concurrent downloads of one file intact, into separate folders and into one', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) => peer(['get', 'big.bin', '--out', join(root, `many-${i}`)]));
    const shared = Array.from({ length: 8 }, () => peer(['get', 'big.bin', '--out', join(root, 'many-shared')]));
    const results = await Promise.all([...jobs, ...shared]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    for (let i = 0; i < 8; i++) expect(sha256(readFileSync(join(root, `many-${i}`, 'big.bin')))).toBe(sha256(filesA['big.bin']!));
    expect(readdirSync(join(root, 'many-shared'))).toEqual(['big.bin']);
    expect(sha256(readFileSync(join(root, 'many-shared', 'big.bin')))).toBe(sha256(filesA['big.bin']!));
  });

  it('shows progress on a terminal that reports no width (a pty nobody sized), and finishes', async () => {
    // `script` gives the download a terminal of 0 columns; ora once divided by that and cleared lines forever.
    // The holder sends at 4 MB/s, so that the download lasts long enough for progress lines to be drawn.
    const slow = randomBytes(4 * 1024 * 1024 + 5);
    writeTree(join(root, 'slow'), { 'slow.bin': slow });
    const holder = start(PEER_BIN, ['share', join(root, 'slow')], { cwd: root, env: { ...env, PEER_MAX_UPLOAD_RATE: '4M' } });
    await holder.waitFor(/^sharing 1 file /);
    const out = join(root, 'tty-out');
    const get = startOnTerminal(PEER_BIN, ['get', 'slow.bin', '--out', out], { cwd: root, env: { ...env, XDG_CONFIG_HOME: join(root, 'tty-config') } });
    expect(await get.exited).toBe(0);
    expect(get.output()).toMatch(/slow\.bin: .* MiB/);
    expect(get.output()).toContain(`saved ${out}/slow.bin (4.0 MiB, sha256 ${sha256(slow).slice(0, 12)})`);
    expect(sha256(readFileSync(join(out, 'slow.bin')))).toBe(sha256(slow));
    expect((await holder.stop('SIGINT')).code).toBe(0);
  });

  it('fails on an unknown name with one line naming it, creating nothing', async () => {
    const out = join(root, 'never-created');
    const result = await peer(['get', 'no-such-file.iso', '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('peer: no holder of "no-such-file.iso" is online (check the name with `peer list`)\n');
    expect(existsSync(out)).toBe(false);
  });

  it('lists the contents of an ambiguous name and takes --sha256 to pick one', async () => {
    const out = join(root, 'clash-out');
    const result = await peer(['get', 'clash.txt', '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"clash.txt" is shared with 2 different contents');
    const a = sha256(filesA['clash.txt']!);
    const b = sha256(filesB['clash.txt']!);
    expect(result.stderr).toContain(a.slice(0, 12));
    expect(result.stderr).toContain(b.slice(0, 12));
    expect(existsSync(out)).toBe(false);

    const picked = await peer(['get', 'clash.txt', '--out', out, '--sha256', b.slice(0, 8).toUpperCase()]);
    expect(picked.code, picked.stderr).toBe(0);
    expect(readFileSync(join(out, 'clash.txt')).equals(filesB['clash.txt']!)).toBe(true);
  });

  it('never clobbers a different file without --force, and succeeds if the same content is there', async () => {
    const out = join(root, 'clobber');
    mkdirSync(out);
    writeFileSync(join(out, 'b.txt'), 'precious\n');
    const refused = await peer(['get', 'b.txt', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`peer: ${out}/b.txt already exists and is a different file (pass --force to replace it)\n`);
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('precious\n');
    expect(readdirSync(out)).toEqual(['b.txt']);

    const forced = await peer(['get', 'b.txt', '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(out, 'b.txt')).equals(filesB['b.txt']!)).toBe(true);

    const again = await peer(['get', 'b.txt', '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already has this content');
    expect(readdirSync(out)).toEqual(['b.txt']);
  });

  it('never writes through a symlink at the target', async () => {
    const out = join(root, 'symlinked');
    mkdirSync(out);
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'do not touch\n');
    symlinkSync(victim, join(out, 'b.txt'));
    const refused = await peer(['get', 'b.txt', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists and is a symbolic link');
    const forced = await peer(['get', 'b.txt', '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(lstatSync(join(out, 'b.txt')).isFile()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('do not touch\n');
  });

  it.each([
    [['get', '../etc/passwd'], /^peer: "\.\.\/etc\/passwd" is not a valid file name: it has a "\.\." path segment/],
    [['get'], /^peer: missing required argument 'file'/],
    [['get', 'x', '--sha256', 'xyz'], /^peer: --sha256: /],
    [['list', '--tracker', 'nonsense'], /^peer: --tracker "nonsense" is not HOST:PORT/],
    [['share'], /^peer: missing required argument 'dir'/],
    [['frobnicate', 'x'], /^peer: unknown command "frobnicate" \(the commands are share, ui, join, want, trackers, list, browse, search, get, link, completion; see `peer --help`\)$/m],
    [['search', 'x', '--limit', 'abc'], /^peer: --limit: must be a whole number from 1 to 100000 \(see `peer search --help`\)$/m],
    [['search', 'x', '--limit', '0'], /^peer: --limit: must be a whole number from 1 to 100000 /],
  ])('refuses %j as a usage error: exit 2, one line', async (args, pattern) => {
    const result = await peer(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
  });
});

describe('peers leaving', () => {
  it('removes the files of a peer that quits (SIGINT, exit 0) while the others stay', async () => {
    const dir = join(root, 'C');
    writeTree(dir, { 'only-c.txt': Buffer.from('c\n'), 'same.txt': filesA['same.txt']! });
    const c = await share(dir);
    const sameKey = `same.txt@${sha256(filesA['same.txt']!).slice(0, 8)}`;
    await listEventually((m) => m.has(`only-c.txt@${sha256('c\n').slice(0, 8)}`) && m.get(sameKey) === 3);
    expect(await c.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(c.stdout).toContain('stopped sharing');
    const after = await listEventually((m) => m.get(sameKey) === 2);
    expect([...after.keys()].some((k) => k.startsWith('only-c.txt@'))).toBe(false);
    expect(after.has(`b.txt@${sha256(filesB['b.txt']!).slice(0, 8)}`)).toBe(true);
  });

  it('says goodbye on Ctrl-C typed on a terminal, as in a pipe: exit 0, and its files leave the list', async () => {
    const dir = join(root, 'T');
    writeTree(dir, { 'only-t.txt': Buffer.from('t\n') });
    const sharer = startOnTerminal(PEER_BIN, ['share', dir], { cwd: root, env });
    await sharer.waitFor(/Press Ctrl-C to stop sharing\./);
    await listEventually((m) => [...m.keys()].some((k) => k.startsWith('only-t.txt@')));
    sharer.type('\x03');
    expect(await sharer.exited).toBe(0);
    expect(sharer.output()).toContain('stopped sharing');
    await listEventually((m) => ![...m.keys()].some((k) => k.startsWith('only-t.txt@')));
  });

  it('removes the files of a peer that is killed outright', async () => {
    const dir = join(root, 'D');
    writeTree(dir, { 'only-d.txt': Buffer.from('d\n') });
    const d = await share(dir);
    await listEventually((m) => [...m.keys()].some((k) => k.startsWith('only-d.txt@')));
    await d.stop('SIGKILL');
    await listEventually((m) => ![...m.keys()].some((k) => k.startsWith('only-d.txt@')));
  });

  it("never publishes its own secrets: `peer share .` in a folder holding its .env and its config folder", async () => {
    const home = join(root, 'home');
    writeTree(home, { 'music/song.txt': Buffer.from('la la\n'), 'id-copy.pem.bak': Buffer.alloc(0) });
    writeFileSync(join(home, '.env'), `PEER_TRACKER=${tracker.address}\n`, { mode: 0o600 });
    const homeEnv = { ...env, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.local/state') };
    // The identity this peer makes is kept in the folder shared; a copy of it lies there under another name.
    const first = start(PEER_BIN, ['share', '.'], { cwd: home, env: homeEnv });
    await first.waitFor(/^sharing /);
    await first.stop('SIGINT');
    writeFileSync(join(home, 'id-copy.pem.bak'), readFileSync(join(home, '.config/p2pservice/peer-identity.pem')));
    const sharer = start(PEER_BIN, ['share', '.'], { cwd: home, env: homeEnv });
    sharers.push(sharer);
    expect(await sharer.waitFor(/^sharing /)).toMatch(/^sharing 1 file /);
    expect(sharer.stderr.join('\n')).toContain(`peer: skipped ".env": this peer's own settings, keys or state: never shared`);
    expect(sharer.stderr.join('\n')).toContain(`peer: skipped ".config/p2pservice": this peer's own settings, keys or state: never shared`);
    expect(sharer.stderr.join('\n')).toContain(`peer: skipped "id-copy.pem.bak": holds a private key (an identity file?): never shared`);
    const names = (await listJson()).map((f) => f.name);
    expect(names).toContain('music/song.txt');
    expect(names.filter((name) => /env|config|pem|identity|known-trackers/.test(name))).toEqual([]);
    await sharer.stop('SIGINT');
  });

  it('refuses to share a folder that does not exist, with exit 2', async () => {
    const result = await peer(['share', join(root, 'missing')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`peer: cannot share "${join(root, 'missing')}": no such file or folder (pass an existing folder)\n`);
  });
});

describe('peer (interactive menu)', () => {
  it('lists, shares a folder while the menu goes on, downloads, and exits cleanly', async () => {
    const cwd = join(root, 'menu-cwd');
    const dir = join(root, 'M');
    mkdirSync(cwd);
    writeTree(dir, { 'from-menu.txt': Buffer.from('shared from the menu\n') });
    // "1" asks for a filter: Enter alone lists everything.
    const input = ['1', '', '2', dir, '1', '', '3', 'nested/deep/a.txt', '3', 'clash.txt', '2', '4', ''].join('\n');
    const result = await peer([], { cwd, input });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('1) Get list');
    expect(result.stdout).toContain('4) Exit');
    expect(result.stdout).toMatch(/sharing 1 file \(21 B\) from .*M on port \d+/);
    // The second listing shows the folder shared from the menu.
    expect(result.stdout.split('NAME').length - 1).toBe(2);
    expect(result.stdout).toMatch(/from-menu\.txt\s+21 B\s+1/);
    expect(result.stdout).toContain('"clash.txt" is shared with 2 different contents');
    expect(readFileSync(join(cwd, 'a.txt')).equals(filesA['nested/deep/a.txt']!)).toBe(true);
    expect(readFileSync(join(cwd, 'clash.txt')).equals(filesB['clash.txt']!) || readFileSync(join(cwd, 'clash.txt')).equals(filesA['clash.txt']!)).toBe(true);
    expect(result.stdout.trimEnd().endsWith('bye')).toBe(true);
    // Exit said goodbye: the menu's share is gone.
    await listEventually((m) => ![...m.keys()].some((k) => k.startsWith('from-menu.txt@')));
  });

  it('reports a failed action on one line and keeps the menu going', async () => {
    const result = await peer([], { input: '3\nno-such.txt\n9\n4\n' });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('peer: no holder of "no-such.txt" is online (check the name with `peer list`)\n');
    expect(result.stdout).toContain('Please answer 1, 2, 3 or 4.');
    expect(result.stdout.trimEnd().endsWith('bye')).toBe(true);
  });
});

