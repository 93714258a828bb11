import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { cleanEnv, envExample, killAll, listeningPort, REPO, removeDir, run, startTrackerCli, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { tlsAs } from '@p2pservice/test-support/tls';

const asPeer = { transport: tlsAs('peer') };

let cwd: string;
beforeEach(() => {
  cwd = tempDir();
});
afterEach(async () => {
  await killAll();
  removeDir(cwd);
});

describe('tracker start', () => {
  it('creates the database as soon as it listens, logs pino JSON on stderr, and exits 0 on SIGTERM', async () => {
    const tracker = await startTrackerCli(cwd, ['--db', 'state/t.db']);
    expect(existsSync(join(cwd, 'state/t.db'))).toBe(true);
    expect(tracker.stdout).toEqual([]);
    for (const line of tracker.stderr) expect(JSON.parse(line)).toHaveProperty('level');
    const session = await TrackerSession.open({ host: '127.0.0.1', port: tracker.port }, asPeer);
    const listener = await listeningPort();
    await session.register(listener.port, [{ name: 'x', size: 1, sha256: 'b'.repeat(64), root: 'e'.repeat(64) }]);
    expect(await tracker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await session.whenClosed;
    await listener.close();
  });

  it('exits 0 on SIGINT too', async () => {
    const tracker = await startTrackerCli(cwd);
    expect(await tracker.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('takes flags over the environment, the environment over .env, and .env over defaults', async () => {
    writeFileSync(join(cwd, '.env'), 'TRACKER_DB=from-dotenv.db\nTRACKER_HOST=127.0.0.1\n');
    const fromDotenv = await startTrackerCli(cwd);
    expect(existsSync(join(cwd, 'from-dotenv.db'))).toBe(true);
    await fromDotenv.stop();
    const fromEnv = await startTrackerCli(cwd, [], cleanEnv({ TRACKER_DB: 'from-env.db' }));
    expect(existsSync(join(cwd, 'from-env.db'))).toBe(true);
    await fromEnv.stop();
    const fromFlag = await startTrackerCli(cwd, ['--db', 'from-flag.db'], cleanEnv({ TRACKER_DB: 'from-env-2.db' }));
    expect(existsSync(join(cwd, 'from-flag.db'))).toBe(true);
    expect(existsSync(join(cwd, 'from-env-2.db'))).toBe(false);
    await fromFlag.stop();
  });

  it.each([
    [['start', '--port', 'seventy'], {}, /^tracker: invalid flag --port: .*\(see `tracker start --help`\)$/],
    [['start', '--port', '0'], { TRACKER_PORT: 'x', LOG_LEVEL: 'info' }, /^tracker: invalid setting TRACKER_PORT: .*see \.env\.example\)$/],
    [['start', '--port', '0'], { LOG_LEVEL: 'loud' }, /^tracker: invalid setting LOG_LEVEL: /],
    [['stop'], {}, /^tracker: unknown command 'stop' \(see `tracker --help`\)$/],
    [['start', '--colour'], {}, /^tracker: unknown option '--colour'/],
    [['ban', '1.2.3'], {}, /^tracker: ban target "1\.2\.3" is neither an identity nor an IP address \(an identity as `peer share` printed it, or an address like /],
    [['ban', '192.0.2.7', '--for', '5y'], {}, /^tracker: --for "5y" is not a duration \(write a number and a unit: 90s, 30m, 1h or 7d\)$/],
    [['bans', '--db', 'nowhere.db'], {}, /^tracker: no tracker database at nowhere\.db \(run this where the tracker runs, or name its database with --db or TRACKER_DB\)$/],
  ])('refuses %j with exit 2 and one line, no stack', async (args, env, pattern) => {
    const result = await run(TRACKER_BIN, args, { cwd, env: { PATH: process.env.PATH, ...env } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(pattern);
  });

  it('names a busy port with exit 1', async () => {
    const first = await startTrackerCli(cwd);
    const result = await run(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', String(first.port), '--db', 'second.db'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`tracker: port 127.0.0.1:${first.port} is already in use (stop the other program or pass --port)`);
  });

  it('leaves a tracker running on the same database alone, and takes over from one that crashed once its lease lapses', async () => {
    const env = cleanEnv({ TRACKER_LEASE: '1' });
    const first = await startTrackerCli(cwd, [], env);
    const session = await TrackerSession.open({ host: '127.0.0.1', port: first.port }, asPeer);
    const listener = await listeningPort();
    onTestFinished(() => listener.close());
    await session.register(listener.port, [{ name: 'x', size: 1, sha256: 'b'.repeat(64), root: 'e'.repeat(64) }]);

    const second = await run(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', '0'], { cwd, env });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n').at(-1)).toBe(
      `tracker: another tracker is running as instance "default" on tracker.db: it renewed its lease while this one waited (stop that tracker first, or give this one a database of its own with --db)`,
    );
    // The first never stopped serving: its peer is still connected and listed.
    expect(await session.whoHas('x')).toHaveLength(1);
    expect(first.stderr.join('\n')).not.toContain('stops serving');

    await first.stop('SIGKILL');
    const third = await startTrackerCli(cwd, [], env);
    expect(third.stderr.join('\n')).toContain('waiting for the lease of an earlier run under this name to lapse');
    expect(third.stderr.join('\n')).toContain('forgot peers of a previous run');
  });

  it('refuses a database off this machine reached without TLS, and a .env with a database password that others can read', async () => {
    const remote = await run(TRACKER_BIN, ['start', '--port', '0', '--db', 'postgres://tracker:s3cret@10.0.0.9:5432/p2p'], { cwd });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toBe(
      "tracker: TRACKER_DB reaches PostgreSQL at 10.0.0.9 without TLS, and would carry the network's list in clear (add ?sslmode=verify-full&sslrootcert=/path/to/its-ca.pem to the URL (or sslmode=require), and turn ssl on in the server)\n",
    );
    // Where the driver really connects: a loopback host in the URL does not make ?host=elsewhere local.
    const hidden = await run(TRACKER_BIN, ['start', '--port', '0', '--db', 'postgres://tracker@127.0.0.1/p2p?host=10.0.0.9&password=s3cret'], { cwd });
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toMatch(/^tracker: TRACKER_DB reaches PostgreSQL at 10\.0\.0\.9 without TLS, /);
    // A password given as ?password= is masked like one in the user part.
    const unreachable = await run(TRACKER_BIN, ['start', '--port', '0', '--db', 'postgres://tracker@127.0.0.1:1/p2p?password=s3cret'], { cwd });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^tracker: cannot reach database postgres:\/\/tracker@127\.0\.0\.1:1\/p2p\?password=\*\*\*: /);
    expect(unreachable.stderr).not.toContain('s3cret');
    const weak = await run(TRACKER_BIN, ['start', '--port', '0', '--db', 'postgres://tracker:s3cret@db.lan/p2p?sslmode=prefer'], { cwd });
    expect(weak.stderr).toMatch(/^tracker: TRACKER_DB reaches PostgreSQL at db\.lan with sslmode=prefer, /);
    writeFileSync(join(cwd, '.env'), 'TRACKER_DB=postgres://tracker:s3cret@127.0.0.1:1/p2p\n', { mode: 0o644 });
    const readable = await run(TRACKER_BIN, ['start', '--port', '0'], { cwd });
    expect(readable.code).toBe(2);
    expect(readable.stderr).toBe(`tracker: ${join(cwd, '.env')} holds TRACKER_DB and can be read by other users (mode 644) (make it private with: chmod 600 ${join(cwd, '.env')})\n`);
  });

  it('prints a stack only at LOG_LEVEL=debug', async () => {
    writeFileSync(join(cwd, 'a-file'), '');
    const args = ['start', '--db', 'a-file/t.db', '--port', '0'];
    const quiet = await run(TRACKER_BIN, args, { cwd });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
    expect(quiet.stderr).toMatch(/^tracker: cannot open database a-file\/t\.db: .*\(check the path and its permissions\)$/m);
    const debug = await run(TRACKER_BIN, args, { cwd, env: cleanEnv({ LOG_LEVEL: 'debug' }) });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('tracker --help', () => {
  it('lists every setting with its default, so nobody needs .env.example', async () => {
    const { TRACKER_SETTINGS } = await import('../src/settings/table.js');
    const help = await run(TRACKER_BIN, ['--help'], { cwd: REPO });
    expect(help.code).toBe(0);
    for (const { env, default: value } of Object.values(TRACKER_SETTINGS)) {
      expect(help.stdout, env).toMatch(new RegExp(`^  ${env}=${value === '' ? '\\(empty\\)' : value.replace(/\./g, '\\.')}  +\\S`, 'm'));
    }
  });
});

describe('the protocol README examples', () => {
  it('are the committed scripts, and they print the files of a live tracker, open or private', async () => {
    const readme = readFileSync(join(REPO, 'packages/protocol/README.md'), 'utf8');
    for (const example of ['list-files.mjs', 'list-private.mjs']) {
      expect(readme).toContain(readFileSync(join(REPO, 'packages/protocol/examples', example), 'utf8').trim());
    }
    const listener = await listeningPort();
    onTestFinished(() => listener.close());
    const open = await startTrackerCli(cwd);
    const peer = await TrackerSession.open({ host: '127.0.0.1', port: open.port }, asPeer);
    await peer.register(listener.port, [{ name: 'docs/readme.txt', size: 12, sha256: 'c'.repeat(64), root: 'e'.repeat(64) }]);
    const listed = await run(join(REPO, 'packages/protocol/examples/list-files.mjs'), [open.pinned], { cwd: REPO });
    expect(listed).toMatchObject({ code: 0, stdout: `docs/readme.txt\t12\t${'c'.repeat(64)}\t1\n` });
    await peer.close();
    await open.stop();

    const { generateNetworkKey, parseNetworkKey } = await import('@p2pservice/protocol');
    const key = generateNetworkKey();
    const closed = await startTrackerCli(cwd, ['--db', 'private.db'], cleanEnv({ NETWORK_KEY: key }));
    const member = await TrackerSession.open({ host: '127.0.0.1', port: closed.port }, { ...asPeer, networkKey: parseNetworkKey(key) });
    await member.register(listener.port, [{ name: 'members/only.txt', size: 5, sha256: 'd'.repeat(64), root: 'e'.repeat(64) }]);
    const script = join(REPO, 'packages/protocol/examples/list-private.mjs');
    const allowed = await run(script, [closed.pinned], { cwd: REPO, env: cleanEnv({ NETWORK_KEY: key }) });
    expect(allowed).toMatchObject({ code: 0, stdout: `members/only.txt\t5\t${'d'.repeat(64)}\t1\n`, stderr: `tracker ${closed.identity}, private network\n` });
    const refused = await run(script, [closed.pinned], { cwd: REPO, env: cleanEnv({ NETWORK_KEY: generateNetworkKey() }) });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('ACCESS_DENIED');
    await member.close();
  });
});
