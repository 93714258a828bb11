import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type FileEntry, TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tlsAs } from '@p2pservice/test-support/tls';
import { startTracker, tempDir, type TestTracker } from './helpers.js';

/*
 * A peer restarted at once comes back while the rows of its last run are still being removed. The same
 * identity's new registration takes them over (departures.ts): the peer keeps its row, and the files it
 * shares again are only touched. A share that changed ends exactly as if the rows had all gone first, and
 * another identity takes nothing over.
 */

const FILES = 40_000;
let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
let file: string;
let bystander: TrackerSession;
const address = () => ({ host: '127.0.0.1', port: tracker.address.port });

beforeEach(async () => {
  dir = tempDir();
  file = join(dir.path, 'tracker.db');
  tracker = await startTracker(file);
});
afterEach(async () => {
  await bystander?.close();
  await tracker.close();
  dir.remove();
});

function share(count: number, tag = ''): FileEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `Album ${Math.floor(i / 100)}/${String(i).padStart(6, '0')} Track${tag}.flac`,
    size: 1_000 + i,
    sha256: (i % 16).toString(16).repeat(64),
    root: 'e'.repeat(64),
  }));
}

/** The peers' row ids, read from the database file beside the tracker. */
function peerIds(): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { id: number }>('SELECT id FROM peers ORDER BY id').all().map((row) => row.id);
  } finally {
    db.close();
  }
}

/**
 * `who` shares FILES files (peer 1), a bystander one file (peer 2: a peer row made after it gets 3, as
 * SQLite gives the highest id plus one), and `who` leaves. Resolves once its files are being removed.
 */
async function leaveMidRemoval(who: string): Promise<void> {
  const first = await TrackerSession.open(address(), { transport: tlsAs(who) });
  expect(await first.register(9, share(FILES))).toBe(FILES);
  bystander = await TrackerSession.open(address(), { transport: tlsAs('bystander') });
  await bystander.register(9, [{ name: 'bystander.txt', size: 1, sha256: 'f'.repeat(64), root: 'e'.repeat(64) }]);
  expect(peerIds()).toEqual([1, 2]);
  await first.close();
  while ((await tracker.store.counts()).files === FILES + 1) await new Promise((resolve) => setTimeout(resolve, 2));
}

/** Waits until the tracker holds `files` file rows (a registration's leftovers go after its answer). */
async function untilFiles(files: number): Promise<void> {
  while ((await tracker.store.counts()).files !== files) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('a departed peer whose rows are still being removed', () => {
  it('is taken over by the same identity registering the same files again', { timeout: 120_000 }, async () => {
    await leaveMidRemoval('restarted');
    const again = await TrackerSession.open(address(), { transport: tlsAs('restarted') });
    expect(await again.register(9, share(FILES))).toBe(FILES);
    await untilFiles(FILES + 1);
    expect(peerIds()).toEqual([1, 2]);
    let listed = 0;
    for await (const _ of again.list()) listed++;
    expect(listed).toBe(FILES + 1);
    await again.close();
    await untilFiles(1);
    expect(peerIds()).toEqual([2]);
  });

  it('is taken over by the same identity sharing other files, and leaves nothing of the old share', { timeout: 120_000 }, async () => {
    await leaveMidRemoval('changed');
    const again = await TrackerSession.open(address(), { transport: tlsAs('changed') });
    const changed = share(FILES / 4, ' (remastered)');
    expect(await again.register(9, changed)).toBe(FILES / 4);
    await untilFiles(FILES / 4 + 1);
    expect(peerIds()).toEqual([1, 2]);
    const names = new Set<string>();
    for await (const entry of again.list()) names.add(entry.name);
    expect(names).toEqual(new Set([...changed.map((entry) => entry.name), 'bystander.txt']));
    await again.close();
  });

  it('is not taken over by another identity: its rows all go, and the newcomer gets a row of its own', { timeout: 120_000 }, async () => {
    await leaveMidRemoval('departed');
    const other = await TrackerSession.open(address(), { transport: tlsAs('newcomer') });
    expect(await other.register(9, share(10))).toBe(10);
    await untilFiles(11);
    expect(peerIds()).toEqual([2, 3]);
    await other.close();
  });
});
