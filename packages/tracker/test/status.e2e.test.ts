import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TrackerSession } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, listeningPort, removeDir, type Running, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';
import { parseExposition } from '@p2pservice/test-support/prometheus';
import { decodeSvgQr } from '@p2pservice/test-support/qr';
import { tlsAs } from '@p2pservice/test-support/tls';
import { eventually } from '@p2pservice/test-support/wait';

/*
 * The tracker's HTTP side as an operator meets it: `tracker start --http-port`, then /status, /metrics and
 * /healthz read over real HTTP, their numbers checked against the SQLite file itself.
 */

const asPeer = { transport: tlsAs('peer') };
const sha = (c: string) => c.repeat(64);

let cwd: string;
let tracker: Running & { port: number; identity: string };
let base: string;
const listeners: { close(): Promise<void> }[] = [];

/** What the database holds now, read from the file the tracker writes. */
function databaseCounts(): { peers: number; files: number; contents: number } {
  const db = new Database(join(cwd, 'tracker.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { peers: count('peers'), files: count('files'), contents: count('contents') };
  } finally {
    db.close();
  }
}

/** A GET with a Host header of our choosing (fetch may not set one). */
function get(path: string, host: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function sharer(files: { name: string; size: number; sha256: string }[]): Promise<TrackerSession> {
  const session = await TrackerSession.open({ host: '127.0.0.1', port: tracker.port }, asPeer);
  const listener = await listeningPort();
  listeners.push(listener);
  await session.register(
    listener.port,
    files.map((f) => ({ ...f, root: 'e'.repeat(64) })),
  );
  return session;
}

beforeAll(async () => {
  cwd = tempDir('p2p-status-');
  tracker = await startTrackerCli(cwd, ['--http-port', '0'], cleanEnv({ LOG_FORMAT: 'json' }));
  const line = await tracker.waitFor(/status page and metrics listening/);
  base = (JSON.parse(line) as { url: string }).url.replace(/status$/, '');
});
afterAll(async () => {
  await killAll();
  await Promise.all(listeners.map((l) => l.close()));
  removeDir(cwd);
});

describe('tracker start --http-port', () => {
  it('serves metrics that parse, whose network numbers are the database rows, and that count requests and errors', async () => {
    const alice = await sharer([
      { name: 'song.mp3', size: 10, sha256: sha('1') },
      { name: 'film.mkv', size: 20, sha256: sha('2') },
    ]);
    const bob = await sharer([{ name: 'song.mp3', size: 10, sha256: sha('1') }]);
    await bob.listPage(null);
    await expect(bob.searchPage({ query: '?! -- "' })).rejects.toMatchObject({ code: 'BAD_QUERY' });
    await bob.watch({ query: 'live' });

    const response = await fetch(`${base}metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const metrics = parseExposition(await response.text());
    const rows = databaseCounts();
    expect(rows).toEqual({ peers: 2, files: 3, contents: 2 });
    expect(metrics.value('p2p_tracker_peers')).toBe(rows.peers);
    expect(metrics.value('p2p_tracker_files')).toBe(rows.files);
    expect(metrics.value('p2p_tracker_contents')).toBe(rows.contents);
    expect(metrics.value('p2p_tracker_connections')).toBe(2);
    expect(metrics.value('p2p_tracker_serving')).toBe(1);
    expect(metrics.value('p2p_tracker_watches')).toBe(1);
    expect(metrics.value('p2p_tracker_requests_total', { type: 'register' })).toBe(2);
    expect(metrics.value('p2p_tracker_requests_total', { type: 'search' })).toBe(1);
    expect(metrics.value('p2p_tracker_errors_total', { code: 'BAD_QUERY' })).toBe(1);
    expect(metrics.value('p2p_tracker_peers_joined_total')).toBe(2);
    expect(metrics.types.get('p2p_tracker_request_duration_seconds')).toBe('histogram');
    // A histogram's buckets only grow, and +Inf is its count.
    const buckets = [...metrics.samples].filter(([k]) => k.startsWith('p2p_tracker_request_duration_seconds_bucket{') && k.includes('type="list"')).map(([, v]) => v);
    expect(buckets.length).toBeGreaterThan(5);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
    expect(metrics.value('p2p_tracker_request_duration_seconds_bucket', { le: '+Inf', type: 'list' })).toBe(metrics.value('p2p_tracker_request_duration_seconds_count', { type: 'list' }));
    // Each registration: its start, its one chunk, its end.
    for (const operation of ['startShare', 'addShareFiles', 'finishShare']) expect(metrics.value('p2p_tracker_store_duration_seconds_count', { operation, backend: 'sqlite' })).toBe(2);
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    await alice.close();
    await bob.close();
    await eventually(() => databaseCounts().peers === 0);
  });

  it('shows a status page with the same numbers as the database, and the joins and leaves', async () => {
    const carol = await sharer([{ name: 'a.txt', size: 1, sha256: sha('3') }]);
    const dave = await sharer([{ name: 'b.txt', size: 2, sha256: sha('4') }]);
    dave.connection.destroy();
    await eventually(() => databaseCounts().peers === 1);
    const response = await fetch(`${base}status`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    const cell = (label: string) => new RegExp(`<th scope="row">${label}</th><td>([^<]*)</td>`).exec(page)?.[1];
    const rows = databaseCounts();
    expect(cell('Peers online')).toBe(String(rows.peers));
    expect(cell('Files listed')).toBe(String(rows.files));
    expect(cell('Distinct contents')).toBe(String(rows.contents));
    expect(cell('Connections to this tracker')).toBe('1');
    expect(cell('State')).toBe('serving');
    expect(page).not.toContain('<script');
    const events = [...page.matchAll(/<td>(joined|left)<\/td><td>([^<]*)<\/td>/g)].map((m) => m[1]);
    // Newest first: dave left, dave and carol joined, and the two peers of the test before left and joined.
    expect(events.slice(0, 3)).toEqual(['left', 'joined', 'joined']);
    await carol.close();
  });

  it('shows how to join: the link, and a QR code of it', async () => {
    const page = await (await fetch(`${base}status`)).text();
    const link = /<p><code>(p2p:\/\/[^<]+)<\/code><\/p>/.exec(page)?.[1];
    expect(link).toBe(`p2p://127.0.0.1:${tracker.port}#${tracker.identity}`);
    expect(decodeSvgQr(/<svg[\s\S]*?<\/svg>/.exec(page)![0])).toBe(link);
    // Announcing is off in tests: the page does not claim otherwise.
    expect(page).not.toContain('find the tracker with no link');
  });

  it("puts a private network's key in the link only on a page nobody else can reach", async () => {
    const folder = tempDir('p2p-status-key-');
    try {
      const keyed = await startTrackerCli(folder, ['--http-port', '0', '--new-key'], cleanEnv({ LOG_FORMAT: 'json' }));
      const key = (await keyed.waitFor(/^NETWORK_KEY=/)).replace('NETWORK_KEY=', '');
      const url = (JSON.parse(await keyed.waitFor(/status page and metrics listening/)) as { url: string }).url;
      const page = await (await fetch(url)).text();
      const link = `p2p://127.0.0.1:${keyed.port}#${keyed.identity}?key=${key}`;
      expect(page).toContain(`<p><code>${link}</code></p>`);
      expect(decodeSvgQr(/<svg[\s\S]*?<\/svg>/.exec(page)![0])).toBe(link);
      expect(page).toContain('The link holds the network key: give it only to members.');
      await keyed.stop();
    } finally {
      removeDir(folder);
    }
  });

  it('answers /healthz with ok while it serves', async () => {
    const response = await fetch(`${base}healthz`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('refuses requests addressed to another name (DNS rebinding), anything but GET and HEAD, and unknown paths', async () => {
    expect((await get('/status', 'evil.example')).status).toBe(421);
    expect((await get('/metrics', 'attacker.test:80')).status).toBe(421);
    expect((await get('/status', 'localhost')).status).toBe(200);
    const post = await get('/status', '127.0.0.1', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get('/nothing', '127.0.0.1')).status).toBe(404);
    const root = await get('/', '127.0.0.1');
    expect([root.status, root.headers.location]).toEqual([302, '/status']);
  });
});

describe('the status port under a flood', () => {
  /** A connection from `from` that sends half a request and then nothing; resolves once connected. */
  const unfinished = (from: string) =>
    new Promise<Socket>((resolve, reject) => {
      const url = new URL(base);
      const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from }, () => {
        socket.write('GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        resolve(socket);
      });
      socket.once('error', reject);
    });

  it('keeps each sender to a few connections, so another one is still answered and the protocol port still serves', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => unfinished('127.0.0.1')));
    try {
      // The ninth from that address is closed as it arrives, long before the 10 s header deadline.
      const url = new URL(base);
      const ninth = connect({ host: url.hostname, port: Number(url.port) }, () => ninth.write('GET /status HTTP/1.1\r\n'));
      ninth.on('error', () => undefined);
      let closed = false;
      ninth.once('close', () => (closed = true));
      await eventually(() => closed, 3_000);
      // Another address gets its answer, and peers their tracker.
      const other = await new Promise<number>((resolve, reject) => {
        const url = new URL(base);
        request({ host: url.hostname, port: url.port, path: '/healthz', localAddress: '127.0.0.2', headers: { host: '127.0.0.1' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
      expect(other).toBe(200);
      const peer = await TrackerSession.open({ host: '127.0.0.1', port: tracker.port }, asPeer);
      await peer.listPage(null);
      await peer.close();
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});

describe('tracker start without --http-port', () => {
  it('opens no HTTP listener', async () => {
    const dir = tempDir('p2p-status-off-');
    try {
      const plain = await startTrackerCli(dir, [], cleanEnv({ LOG_FORMAT: 'json' }));
      expect(plain.stderr.join('\n')).not.toContain('status page');
      await plain.stop();
    } finally {
      removeDir(dir);
    }
  });
});
