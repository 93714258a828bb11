import { describe, expect, it } from 'vitest';
import { HolderReply, HolderRequest, LOCAL_ERROR_CODES, sharedNameProblem, TrackerReply, TrackerRequest, WIRE_ERROR_CODES } from '../src/index.js';

const sha = 'a'.repeat(64);

const valid = {
  trackerRequest: [
    { type: 'hello', protocol: 2, agent: 'x', features: ['queue', 'who_has_content'] },
    { type: 'register', id: 1, listenPort: 4000, files: [{ name: 'a/b.txt', size: 0, sha256: sha, root: sha }], more: false },
    { type: 'list', id: 2, after: null, limit: 100 },
    { type: 'list', id: 3, after: { name: 'a', sha256: sha }, limit: 1 },
    { type: 'who_has', id: 4, name: 'a/b.txt' },
    { type: 'bye' },
  ],
  trackerReply: [
    { type: 'welcome', protocol: 2, agent: 'tracker', features: ['who_has_content'], network: 'open', heartbeatMs: 15000, peerTimeoutMs: 45000 },
    { type: 'registered', id: 1, files: 3, complete: true },
    { type: 'list_page', id: 2, files: [{ name: 'a', size: 5, sha256: sha, holders: 2 }], next: null },
    { type: 'holders', id: 4, name: 'a', contents: [{ sha256: sha, size: 5, holders: [{ host: '10.0.0.2', port: 4000, id: 'AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA', root: sha }] }] },
    { type: 'error', id: null, code: 'BAD_MESSAGE', message: 'nope' },
  ],
  holderRequest: [{ type: 'fetch', id: 1, sha256: sha, offset: 0, length: 10 }, { type: 'pieces', id: 2, sha256: sha }],
  holderReply: [
    { type: 'file', id: 1, sha256: sha, size: 10, offset: 2, length: 8 },
    { type: 'piece_layer', id: 2, sha256: sha, root: sha, pieceSize: 262144, hashes: sha },
  ],
};

describe('message schemas', () => {
  it('accept every documented example', () => {
    for (const m of valid.trackerRequest) expect(TrackerRequest.safeParse(m).success, JSON.stringify(m)).toBe(true);
    for (const m of valid.trackerReply) expect(TrackerReply.safeParse(m).success, JSON.stringify(m)).toBe(true);
    for (const m of valid.holderRequest) expect(HolderRequest.safeParse(m).success).toBe(true);
    for (const m of valid.holderReply) expect(HolderReply.safeParse(m).success).toBe(true);
  });

  it('reject unknown keys, including __proto__ and constructor', () => {
    expect(TrackerRequest.safeParse({ type: 'bye', extra: 1 }).success).toBe(false);
    expect(TrackerRequest.safeParse(JSON.parse('{"type":"bye","__proto__":{"admin":true}}')).success).toBe(false);
    expect(TrackerRequest.safeParse({ type: 'who_has', id: 1, name: 'a', constructor: 'x' }).success).toBe(false);
    expect(TrackerRequest.safeParse({ ...valid.trackerRequest[1], files: [{ name: 'a', size: 1, sha256: sha, owner: 'me' }] }).success).toBe(false);
  });

  it.each([
    ['an unknown type', { type: 'delete_everything', id: 1 }],
    ['no type', { id: 1 }],
    ['a string id', { type: 'who_has', id: '1', name: 'a' }],
    ['a negative id', { type: 'who_has', id: -1, name: 'a' }],
    ['a fractional limit', { type: 'list', id: 1, after: null, limit: 1.5 }],
    ['a zero limit', { type: 'list', id: 1, after: null, limit: 0 }],
    ['an oversize page', { type: 'list', id: 1, after: null, limit: 1_000_000 }],
    ['port 0', { type: 'register', id: 1, listenPort: 0, files: [], more: false }],
    ['port 70000', { type: 'register', id: 1, listenPort: 70000, files: [], more: false }],
    ['a negative size', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: -1, sha256: sha, root: sha }], more: false }],
    ['an unsafe size', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: 2 ** 60, sha256: sha, root: sha }], more: false }],
    ['an uppercase sha256', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: 1, sha256: 'A'.repeat(64), root: sha }], more: false }],
    ['a short sha256', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: 1, sha256: 'ab', root: sha }], more: false }],
    ['a file without its piece-tree root', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: 1, sha256: sha }], more: false }],
    ['a short root', { type: 'register', id: 1, listenPort: 1, files: [{ name: 'a', size: 1, sha256: sha, root: 'ab' }], more: false }],
    ['a traversal name', { type: 'who_has', id: 1, name: '../etc/passwd' }],
    ['a hello with a string version', { type: 'hello', protocol: '2', agent: 'x', features: [] }],
    ['a hello without features', { type: 'hello', protocol: 2, agent: 'x' }],
    ['a hello with a malformed feature name', { type: 'hello', protocol: 2, agent: 'x', features: ['Queue!'] }],
    ['an array', []],
    ['null', null],
  ])('reject %s', (_label, message) => {
    expect(TrackerRequest.safeParse(message).success).toBe(false);
  });

  it.each([
    ['a fetch without a length', { type: 'fetch', id: 1, sha256: sha, offset: 0 }],
    ['a fetch with a negative length', { type: 'fetch', id: 1, sha256: sha, offset: 0, length: -1 }],
    ['a pieces request with a path', { type: 'pieces', id: 1, sha256: sha, path: '/etc/passwd' }],
  ])('reject %s from a downloader', (_label, message) => {
    expect(HolderRequest.safeParse(message).success).toBe(false);
  });

  it.each([
    ['hashes cut short', { type: 'piece_layer', id: 1, sha256: sha, root: sha, pieceSize: 262144, hashes: sha.slice(1) }],
    ['no hashes', { type: 'piece_layer', id: 1, sha256: sha, root: sha, pieceSize: 262144, hashes: '' }],
    ['pieces below the smallest', { type: 'piece_layer', id: 1, sha256: sha, root: sha, pieceSize: 16384, hashes: sha }],
    ['more hashes than MAX_PIECES', { type: 'piece_layer', id: 1, sha256: sha, root: sha, pieceSize: 262144, hashes: sha.repeat(8193) }],
  ])('reject a piece layer with %s', (_label, message) => {
    expect(HolderReply.safeParse(message).success).toBe(false);
  });

  it('reject an error frame with a code that is not in the table', () => {
    expect(TrackerReply.safeParse({ type: 'error', id: null, code: 'WHATEVER', message: 'x' }).success).toBe(false);
  });

  it('accept every wire error code in an error frame, and refuse every local one', () => {
    for (const code of Object.keys(WIRE_ERROR_CODES)) {
      expect(HolderReply.safeParse({ type: 'error', id: 1, code, message: 'x' }).success, code).toBe(true);
    }
    for (const code of Object.keys(LOCAL_ERROR_CODES)) {
      const result = HolderReply.safeParse({ type: 'error', id: 1, code, message: 'x' });
      expect(result.success, code).toBe(false);
      expect(result.error?.issues[0]?.message, code).toBe('is not a code of the wire error table');
    }
  });

  it('accept feature names this version does not know, so that the protocol can grow', () => {
    expect(TrackerRequest.safeParse({ type: 'hello', protocol: 2, agent: 'future', features: ['queue', 'search', 'connect_back'] }).success).toBe(true);
    expect(TrackerRequest.safeParse({ type: 'hello', protocol: 2, agent: 'x', features: Array(65).fill('queue') }).success).toBe(false);
  });
});

describe('shared names', () => {
  it.each(['a.txt', 'nested/deeper/a.txt', 'ünïcode 名前 🎵.txt', '.hidden', 'a..b', 'spaces in name', '-rf'])('accepts %s', (name) => {
    expect(sharedNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['/etc/passwd', 'is an absolute path'],
    ['../up', 'has a ".." path segment'],
    ['a/../../up', 'has a ".." path segment'],
    ['./a', 'has a "." path segment'],
    ['a//b', 'has an empty path segment'],
    ['a/', 'has an empty path segment'],
    ['a\\b', 'contains a backslash'],
    ['C:/Windows', 'starts with a drive letter'],
    ['a\u0000b', 'contains a control, bidi or invisible character'],
    ['a\nb', 'contains a control, bidi or invisible character'],
    ['a\u001b[31mred', 'contains a control, bidi or invisible character'],
    ['evil\u202etxt.exe', 'contains a control, bidi or invisible character'],
    ['x'.repeat(1025), 'is longer than 1024 bytes'],
    [Array(65).fill('d').join('/'), 'is deeper than 64 folders'],
    ['\ud800', 'is not well-formed Unicode'],
  ])('refuses %j: it %s', (name, problem) => {
    expect(sharedNameProblem(name)).toBe(problem);
  });
});

describe('the hostile-name corpus', () => {
  it('has at least 30 names, and every one is refused with a reason', async () => {
    const { HOSTILE_NAMES } = await import('@p2pservice/test-support/hostile-names');
    expect(HOSTILE_NAMES.length).toBeGreaterThanOrEqual(30);
    for (const name of HOSTILE_NAMES) expect(sharedNameProblem(name), JSON.stringify(name)).toBeTypeOf('string');
  });
});
