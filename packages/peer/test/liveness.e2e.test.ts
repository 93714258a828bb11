import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ListEntry, TrackerSession } from '@p2pservice/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, type Running, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';

/*
 * The list converges to the truth by itself: frozen, killed and restarted processes, folders that change
 * while shared. Intervals are shortened through the same settings users tune.
 */

const sha = (data: string) => createHash('sha256').update(data).digest('hex');
// A short lease: the tracker killed below is restarted under its name, which waits for the old lease to lapse.
const TRACKER_ENV = { HEARTBEAT_INTERVAL: '0.2', PEER_TIMEOUT: '0.6', TRACKER_LEASE: '1' };
const PEER_ENV = { RECONNECT_BASE_DELAY: '0.1', RECONNECT_MAX_DELAY: '0.5' };

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let peerEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = tempDir('p2p-live-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')], cleanEnv(TRACKER_ENV));
  peerEnv = cleanEnv({ ...PEER_ENV, PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
});
afterEach(async () => {
  await killAll();
  if (tracker.child.exitCode !== null || tracker.child.signalCode !== null) {
    tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db'), '--port', String(tracker.port)], cleanEnv(TRACKER_ENV));
  }
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

async function listNow(): Promise<ListEntry[]> {
  const session = await TrackerSession.open({ host: '127.0.0.1', port: tracker.port });
  try {
    const entries: ListEntry[] = [];
    for await (const entry of session.list()) entries.push(entry);
    return entries;
  } finally {
    await session.close();
  }
}

/** Polls the list until `check` holds, for at most `ms` (a bound on the wait, not a speed claim). */
async function listUntil(check: (list: ListEntry[]) => boolean, ms: number, what: string): Promise<ListEntry[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const list = await listNow().catch(() => undefined);
    if (list && check(list)) return list;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${ms} ms; list: ${JSON.stringify(list?.map((e) => e.name))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const has = (name: string, content?: string) => (list: ListEntry[]) =>
  list.some((e) => e.name === name && (content === undefined || (e.sha256 === sha(content) && e.size === Buffer.byteLength(content))));
const lacks = (name: string) => (list: ListEntry[]) => !list.some((e) => e.name === name);

async function share(name: string, files: Record<string, string>): Promise<{ dir: string; peer: Running }> {
  const dir = join(root, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  const peer = start(PEER_BIN, ['share', dir], { cwd: root, env: peerEnv });
  await peer.waitFor(/^sharing /);
  return { dir, peer };
}

describe('dead and frozen peers', () => {
  it('drops a peer frozen with SIGSTOP within 3 heartbeats; resumed with SIGCONT, it re-registers by itself', async () => {
    const { peer } = await share('frozen', { 'frozen.txt': 'ice' });
    await listUntil(has('frozen.txt'), 5_000, 'frozen.txt listed');
    peer.child.kill('SIGSTOP');
    await listUntil(lacks('frozen.txt'), 3 * 200 + 2_000, 'frozen peer dropped');
    peer.child.kill('SIGCONT');
    await listUntil(has('frozen.txt', 'ice'), 10_000, 'resumed peer back');
    await peer.waitFor(/^tracker 127\.0\.0\.1:\d+ lost, retrying in [\d.]+ s$/);
    await peer.waitFor(/^tracker 127\.0\.0\.1:\d+ is back; 1 file registered again$/);
  });

  it('drops a peer killed with SIGKILL within a second', async () => {
    const { peer } = await share('killed', { 'killed.txt': 'x' });
    await listUntil(has('killed.txt'), 5_000, 'killed.txt listed');
    await peer.stop('SIGKILL');
    await listUntil(lacks('killed.txt'), 1_000, 'killed peer dropped');
  });
});

describe('a tracker that dies and comes back', () => {
  it('gets every live peer back with its current share, and never a peer that died meanwhile', async () => {
    const survivor = await share('survivor', { 'survivor.txt': 'still here' });
    const casualty = await share('casualty', { 'casualty.txt': 'gone soon' });
    await listUntil((l) => has('survivor.txt')(l) && has('casualty.txt')(l), 5_000, 'both listed');

    await tracker.stop('SIGKILL');
    await survivor.peer.waitFor(/lost, retrying in/);
    await casualty.peer.stop('SIGKILL');
    writeFileSync(join(survivor.dir, 'added-while-down.txt'), 'new');
    // Made while the tracker is down: the re-registration (or an update after it) carries the change.

    tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db'), '--port', String(tracker.port)], cleanEnv(TRACKER_ENV));
    const list = await listUntil((l) => has('survivor.txt', 'still here')(l) && has('added-while-down.txt', 'new')(l), 10_000, 'survivor back');
    expect(list.some((e) => e.name === 'casualty.txt')).toBe(false);
    await survivor.peer.waitFor(/is back; [12] files? registered again/);
  });
});

describe('a folder that changes while it is shared', () => {
  it('shows additions in new nested folders, deletions, modifications and renames, with the right size and sha256', async () => {
    const { dir } = await share('live', { 'a.txt': 'alpha', 'b.txt': 'bravo', 'c.txt': 'charlie' });
    await listUntil(has('c.txt', 'charlie'), 5_000, 'initial share');

    mkdirSync(join(dir, 'new/deeper/still'), { recursive: true });
    writeFileSync(join(dir, 'new/deeper/still/n.txt'), 'nested content');
    await listUntil(has('new/deeper/still/n.txt', 'nested content'), 8_000, 'added in a new nested folder');

    rmSync(join(dir, 'a.txt'));
    await listUntil(lacks('a.txt'), 8_000, 'deleted');

    writeFileSync(join(dir, 'b.txt'), 'bravo, rewritten and longer');
    await listUntil((l) => has('b.txt', 'bravo, rewritten and longer')(l) && !has('b.txt', 'bravo')(l), 8_000, 'modified');

    renameSync(join(dir, 'c.txt'), join(dir, 'new/c-renamed.txt'));
    await listUntil((l) => lacks('c.txt')(l) && has('new/c-renamed.txt', 'charlie')(l), 8_000, 'renamed');

    rmSync(join(dir, 'new'), { recursive: true });
    await listUntil((l) => lacks('new/c-renamed.txt')(l) && lacks('new/deeper/still/n.txt')(l), 8_000, 'folder removed');
  });

  it('announces a file still being written only once it is stable, with its final content', async () => {
    const { dir } = await share('growing', { 'other.txt': 'o' });
    await listUntil(has('other.txt'), 5_000, 'initial share');
    const path = join(dir, 'growing.log');
    let content = '';
    for (let i = 0; i < 15; i++) {
      content += `line ${i}\n`;
      appendFileSync(path, `line ${i}\n`);
      const list = await listNow();
      expect(list.some((e) => e.name === 'growing.log'), `listed while still being written (after line ${i})`).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    await listUntil(has('growing.log', content), 8_000, 'stable file announced');
  });
});
