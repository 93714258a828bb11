import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, TrackerStore } from '../src/index.js';
import { sha, tempDir } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let store: TrackerStore;
beforeEach(() => {
  dir = tempDir();
  store = new TrackerStore(join(dir.path, 'sub', 'tracker.db'));
});
afterEach(() => {
  store.close();
  dir.remove();
});

describe('TrackerStore on a real SQLite file', () => {
  it('creates the file (and its folder) with the current schema version, in WAL mode', () => {
    const file = join(dir.path, 'sub', 'tracker.db');
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('lists distinct (name, sha256) rows with sizes and holder counts', () => {
    const a = store.addPeer('10.0.0.1', 4001);
    const b = store.addPeer('10.0.0.2', 4002);
    store.replaceShare(a, 4001, [
      { name: 'song.mp3', size: 10, sha256: sha('1') },
      { name: 'doc.txt', size: 3, sha256: sha('2') },
    ]);
    store.replaceShare(b, 4002, [
      { name: 'song.mp3', size: 10, sha256: sha('1') },
      { name: 'doc.txt', size: 4, sha256: sha('3') },
    ]);
    expect(store.listPage(null, 100)).toEqual({
      files: [
        { name: 'doc.txt', sha256: sha('2'), size: 3, holders: 1 },
        { name: 'doc.txt', sha256: sha('3'), size: 4, holders: 1 },
        { name: 'song.mp3', sha256: sha('1'), size: 10, holders: 2 },
      ],
      next: null,
    });
    expect(store.whoHas('song.mp3')).toEqual([
      { sha256: sha('1'), size: 10, holders: [{ host: '10.0.0.1', port: 4001 }, { host: '10.0.0.2', port: 4002 }] },
    ]);
    expect(store.whoHas('doc.txt').map((c) => c.sha256)).toEqual([sha('2'), sha('3')]);
    expect(store.whoHas('missing')).toEqual([]);
  });

  it('pages the list with a keyset cursor that visits every row exactly once', () => {
    const peer = store.addPeer('10.0.0.1', 4001);
    const files = Array.from({ length: 250 }, (_, i) => ({ name: `f${String(i).padStart(3, '0')}`, size: i, sha256: sha('a') }));
    store.replaceShare(peer, 4001, files);
    const seen: string[] = [];
    let after = null;
    let pages = 0;
    do {
      const page = store.listPage(after, 100);
      seen.push(...page.files.map((f) => f.name));
      after = page.next;
      pages++;
    } while (after);
    expect(seen).toEqual(files.map((f) => f.name));
    expect(pages).toBe(3);
  });

  it('replaces a share atomically and removes every row of a peer that leaves', () => {
    const a = store.addPeer('10.0.0.1', 4001);
    const b = store.addPeer('10.0.0.2', 4002);
    store.replaceShare(a, 4001, [{ name: 'old', size: 1, sha256: sha('1') }]);
    store.replaceShare(a, 4005, [{ name: 'new', size: 1, sha256: sha('1') }]);
    store.replaceShare(b, 4002, [{ name: 'kept', size: 1, sha256: sha('2') }]);
    expect(store.whoHas('new')[0]!.holders).toEqual([{ host: '10.0.0.1', port: 4005 }]);
    expect(store.whoHas('old')).toEqual([]);
    store.removePeer(a);
    expect(store.counts()).toEqual({ peers: 1, files: 1 });
    expect(store.listPage(null, 10).files.map((f) => f.name)).toEqual(['kept']);
  });

  it('rolls back a share that fails half way (duplicate name), keeping the previous one', () => {
    const a = store.addPeer('10.0.0.1', 4001);
    store.replaceShare(a, 4001, [{ name: 'before', size: 1, sha256: sha('1') }]);
    expect(() =>
      store.replaceShare(a, 4001, [
        { name: 'x', size: 1, sha256: sha('1') },
        { name: 'x', size: 2, sha256: sha('2') },
      ]),
    ).toThrow();
    expect(store.listPage(null, 10).files.map((f) => f.name)).toEqual(['before']);
  });

  it('forgets the peers of a previous run when reopened and cleared', () => {
    const a = store.addPeer('10.0.0.1', 4001);
    store.replaceShare(a, 4001, [{ name: 'ghost', size: 1, sha256: sha('1') }]);
    store.close();
    store = new TrackerStore(join(dir.path, 'sub', 'tracker.db'));
    expect(store.clearPeers()).toBe(1);
    expect(store.counts()).toEqual({ peers: 0, files: 0 });
  });

  it('refuses a database from a newer tracker', () => {
    store.close();
    const file = join(dir.path, 'sub', 'tracker.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new TrackerStore(file)).toThrow(/newer than this tracker/);
    store = new TrackerStore(join(dir.path, 'other.db'));
  });
});
