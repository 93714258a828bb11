import { join } from 'node:path';
import { type ConnectNotice, TrackerSession } from '@p2pservice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listeningPort } from '@p2pservice/test-support/processes';
import { testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { sha, startTracker, tempDir, type TestTracker } from './helpers.js';

/*
 * Connect-back at the tracker: a firewalled holder is listed with the flag, a connect request reaches it
 * over its own connection with the requester's address as the tracker saw it, and nothing else can be
 * made to reach it: requests for peers that are not connected firewalled holders, from requesters the
 * tracker cannot reach itself, or too many of them, are refused one by one.
 */

let dir: ReturnType<typeof tempDir>;
let tracker: TestTracker;
const sessions: TrackerSession[] = [];
const closers: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  dir = tempDir();
  tracker = await startTracker(join(dir.path, 'tracker.db'), { verifyReachable: true, reachTimeoutMs: 1_000, maxConnectRequests: 5, maxConnectRequestsPerAddress: 8, connectRequestWindowMs: 60_000 });
});
afterEach(async () => {
  for (const s of sessions.splice(0)) s.connection.destroy();
  for (const c of closers.splice(0)) await c.close();
  await tracker.close();
  dir.remove();
});

async function session(name: string): Promise<TrackerSession> {
  const s = await TrackerSession.open(tracker.address, { transport: tlsAs(name) });
  sessions.push(s);
  return s;
}

/** A port where `name` answers (the tracker's checks pass), or one where nothing does. */
async function port(name: string, open = true): Promise<number> {
  const listener = await listeningPort(name);
  if (!open) {
    await listener.close();
    return listener.port;
  }
  closers.push(listener);
  return listener.port;
}

/** A sharing peer whose port the tracker cannot reach, with the notices it is sent. */
async function firewalledHolder(name: string) {
  const holder = await session(name);
  const notices: ConnectNotice[] = [];
  holder.onConnectNotice((notice) => notices.push(notice));
  const listenPort = await port(name, false);
  await holder.register(listenPort, [{ name: `${name}.txt`, size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
  const record = { host: '127.0.0.1', port: listenPort, id: testIdentity(name).id, firewalled: true as const };
  return { holder, notices, record };
}

describe('connect-back at the tracker', () => {
  it('lists a firewalled holder with the flag and relays a request to it with the address it saw and the requester it saw', async () => {
    const { holder, notices, record } = await firewalledHolder('holder');
    expect(holder.firewalled).toMatch(/^the tracker cannot reach 127\.0\.0\.1:\d+ \(connection refused\)$/);
    const downloader = await session('downloader');
    expect(await downloader.whoHasContent(sha('1'))).toEqual([{ ...record, root: 'e'.repeat(64) }]);
    expect((await downloader.listPage(null, 10)).files).toEqual([{ name: 'holder.txt', size: 1, sha256: sha('1'), holders: 1, firewalled: 1 }]);

    const door = await port('downloader');
    const token = await downloader.connectRequest(record, door);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    await expect.poll(() => notices).toEqual([{ type: 'connect_notice', token, host: '127.0.0.1', port: door, requester: testIdentity('downloader').id }]);
    // The holder's own conversation goes on around the notice.
    expect(await holder.ping()).toBeUndefined();
  });

  it('refuses a request for anyone but a connected firewalled holder, and keeps the requester connected', async () => {
    const { record, notices } = await firewalledHolder('holder');
    const reachable = await session('reachable');
    const reachablePort = await port('reachable');
    await reachable.register(reachablePort, [{ name: 'r.txt', size: 1, sha256: sha('2'), root: 'e'.repeat(64) }]);
    const downloader = await session('downloader');
    const door = await port('downloader');
    const forged = [
      { ...record, host: '192.0.2.7' }, // a victim's address, with the holder's identity
      { ...record, port: record.port + 1 },
      { ...record, id: testIdentity('someone').id },
      { host: '127.0.0.1', port: reachablePort, id: testIdentity('reachable').id, firewalled: true as const }, // reachable: dial it
    ];
    for (const holder of forged) {
      await expect(downloader.connectRequest(holder, door)).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    }
    expect(notices).toEqual([]);
    expect(await downloader.ping()).toBeUndefined();
  });

  it('refuses a requester the tracker cannot reach either (both firewalled), naming the fix', async () => {
    const { record, notices } = await firewalledHolder('holder');
    const downloader = await session('downloader');
    const closed = await port('downloader', false);
    await expect(downloader.connectRequest(record, closed)).rejects.toMatchObject({
      code: 'BOTH_FIREWALLED',
      message: expect.stringMatching(new RegExp(`so are you: the tracker cannot reach your port 127\\.0\\.0\\.1:${closed} either \\(connection refused\\); open a TCP port on either side`)),
    });
    expect(notices).toEqual([]);
  });

  it('rate-limits connect requests per connection and per address', async () => {
    const { record, notices } = await firewalledHolder('holder');
    const downloader = await session('downloader');
    const door = await port('downloader');
    for (let i = 0; i < 5; i++) await downloader.connectRequest(record, door);
    await expect(downloader.connectRequest(record, door)).rejects.toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/more than 5 connect requests in 60 s; wait a moment/) });
    await expect.poll(() => notices.length).toBe(5);
    // Another connection is not held back by this one's flood…
    const other = await session('other');
    await other.connectRequest(record, await port('other'));
    await expect.poll(() => notices.length).toBe(6);
    // …but one address gets at most 8 a minute, over all its connections (the refused one counted too).
    const third = await session('third');
    const thirdPort = await port('third');
    await third.connectRequest(record, thirdPort);
    await expect(third.connectRequest(record, thirdPort)).rejects.toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/more than 8 connect requests from 127\.0\.0\.1 in 60 s/) });
    await expect.poll(() => notices.length).toBe(7);
  });

  it('forgets a firewalled holder that left', async () => {
    const { holder, record } = await firewalledHolder('holder');
    await holder.close();
    const downloader = await session('downloader');
    await expect.poll(async () => (await downloader.whoHasContent(sha('1'))).length).toBe(0);
    await expect(downloader.connectRequest(record, await port('downloader'))).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
  });
});
