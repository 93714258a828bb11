import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseSearchQuery } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteStore } from '../src/index.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-schema.js';
import { sha, tempDir } from './helpers.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract({
  name: 'SQLite',
  async fresh() {
    const dir = tempDir();
    const file = join(dir.path, 'tracker.db');
    return { open: (instance) => SqliteStore.open(file, instance === undefined ? {} : { instance }), dispose: async () => dir.remove() };
  },
});

describe('the SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    dir = tempDir();
    file = join(dir.path, 'sub', 'tracker.db');
  });
  afterEach(() => dir.remove());

  it('creates the file (and its folder) with the current schema version, in WAL mode', async () => {
    const store = await SqliteStore.open(file);
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    await store.close();
  });

  it('moves a database of schema version 1 up (its files searchable), and forgets the peers its last run left', async () => {
    mkdirSync(join(dir.path, 'sub'));
    const old = new Database(file);
    old.exec(SQLITE_MIGRATIONS[0] as string);
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO peers (id, host, port, connected_at) VALUES (1, ?, ?, 0)').run('10.0.0.1', 4001);
    old.prepare('INSERT INTO files (peer_id, name, size, sha256) VALUES (1, ?, 1, ?)').run('ghost', sha('1'));
    old.close();
    const store = await SqliteStore.open(file);
    expect(await store.counts()).toEqual({ peers: 1, files: 1 });
    const search = () => store.search(parseSearchQuery('GHO'), null, 10, Date.now() + 60_000);
    expect((await search()).map((r) => r.name)).toEqual(['ghost']);
    expect(await store.whoHasContent(sha('1'), 64)).toEqual([{ host: '10.0.0.1', port: 4001, id: '', root: '' }]);
    expect(await store.membership.join(60_000)).toBe(1);
    expect(await store.counts()).toEqual({ peers: 0, files: 0 });
    expect(await search()).toEqual([]);
    await store.close();
  });

  it('keeps its own lease through a pause longer than the lease, as long as no other tracker swept it', async () => {
    const store = await SqliteStore.open(file);
    await store.membership.join(100);
    // The event loop held (a suspended machine): the lease has run out, and nobody took the row.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await store.membership.renewLease(60_000)).toBe(true);
    // Another tracker on the same file that sweeps a lapsed instance takes the row first: no renewal then.
    await store.membership.renewLease(100);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const other = await SqliteStore.open(file, { instance: 'other' });
    await other.membership.join(60_000);
    await other.membership.sweepLapsed();
    expect(await store.membership.renewLease(60_000)).toBe(false);
    await other.close();
    await store.close();
  });

  it('keeps its write-ahead log near its limit while writes never pause, and no write fails meanwhile', async () => {
    // 30 shares of 1 000 files write about 300 MiB of log; without emptying it, the log held all of it.
    const limit = 4 * 2 ** 20;
    const hex = (text: string) => createHash('sha256').update(text).digest('hex');
    const store = await SqliteStore.open(file, { walLimitBytes: limit });
    let largest = 0;
    for (let share = 0; share < 30; share++) {
      const files = Array.from({ length: 1000 }, (_, i) => ({ name: `album ${share}/track ${i}.mp3`, size: 1000 + i, sha256: hex(`${share}/${i}`), root: hex(`root ${share}/${i}`) }));
      await store.putShare(undefined, { host: '10.0.0.1', port: 4000 + share, id: '' }, files);
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    expect(await store.counts()).toEqual({ peers: 30, files: 30_000 });
    expect(largest).toBeLessThan(100 * 2 ** 20);
    await store.close();
  });

  it('finishes its writes in a process with nothing else to keep it alive while the log starts over', async () => {
    // A write waiting for the checkpoint thread once left the process with nothing pending: it exited (13).
    const script = `
      import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
      import { SqliteStore } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const hex = (text) => createHash('sha256').update(text).digest('hex');
      const store = await SqliteStore.open(${JSON.stringify(file)}, { walLimitBytes: 2 ** 20 });
      for (let share = 0; share < 20; share++) {
        const files = Array.from({ length: 1000 }, (_, i) => ({ name: 'album ' + share + '/track ' + i, size: i, sha256: hex(share + '/' + i), root: hex('r' + share + '/' + i) }));
        await store.putShare(undefined, { host: '10.0.0.1', port: 4000 + share, id: '' }, files);
      }
      console.log(JSON.stringify(await store.counts()));
      await store.close();`;
    const scriptFile = join(dir.path, 'write.mjs');
    writeFileSync(scriptFile, script);
    const run = spawnSync(process.execPath, [scriptFile], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ peers: 20, files: 20_000 });
  });

  it('refuses a database from a newer tracker, naming the versions', async () => {
    await (await SqliteStore.open(file)).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    await expect(SqliteStore.open(file)).rejects.toThrow(`schema version ${SQLITE_SCHEMA_VERSION + 1}, newer than this tracker's ${SQLITE_SCHEMA_VERSION}`);
  });
});
