import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_FEATURES, encodeFrame, type Feature, FramedConnection, PROTOCOL_VERSION, TrackerSession, type Transport } from '@p2pservice/protocol';
import { afterEach } from 'vitest';
import { z } from 'zod';
import type { TrackerLimits } from '../src/settings/defaults.js';
import { testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';

export type { TestTracker };

export function tempDir(prefix = 'p2p-tracker-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Registrations here name made-up listen ports, so the reachability check is off unless a test turns it on. */
export function startTracker(dbFile: string, limits: Partial<TrackerLimits> = {}, transport?: Transport): Promise<TestTracker> {
  return startTestTracker(dbFile, { limits: { verifyReachable: false, ...limits }, ...(transport && { transport }) });
}

/**
 * A tracker a test starts (`start`, with its limits) on a database of its own, and the sessions it opens
 * to it (`session`, TLS as a test identity), all closed after each test.
 */
export function trackerPerTest() {
  let dir: ReturnType<typeof tempDir> | undefined;
  let started: TestTracker | undefined;
  const sessions: TrackerSession[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.connection.destroy();
    await started?.close();
    dir?.remove();
    started = undefined;
    dir = undefined;
  });
  return {
    async start(limits: Partial<TrackerLimits> = {}): Promise<TestTracker> {
      dir = tempDir();
      started = await startTracker(join(dir.path, 'tracker.db'), limits);
      return started;
    },
    get tracker(): TestTracker {
      return started!;
    },
    async session(name: string, features: readonly Feature[] = ALL_FEATURES): Promise<TrackerSession> {
      const s = await TrackerSession.open(started!.address, { transport: tlsAs(name), features });
      sessions.push(s);
      return s;
    },
  };
}

/** Session options for a sharing peer of the tests: TLS as the test identity "peer". */
export const asPeer = { transport: tlsAs('peer') };
/** The identity the tracker lists "peer"'s shares under. */
export const peerId = testIdentity('peer').id;

/** A client that speaks raw frames inside TLS (as the identity "peer"), valid or not, for probing the server. */
export async function rawClient(port: number, hello = true, maxFrameBytes?: number, features: readonly string[] = ALL_FEATURES) {
  const socket = await tlsAs('peer').dial({ host: '127.0.0.1', port });
  const connection = new FramedConnection(socket, z.unknown(), maxFrameBytes === undefined ? {} : { maxFrameBytes });
  if (hello) {
    await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'raw-test', features });
    await connection.receive(2000);
  }
  return {
    connection,
    socket,
    send: (message: unknown) => connection.send(message),
    sendBytes: (bytes: Buffer) => connection.write(bytes),
    receive: () => connection.receive(2000) as Promise<Record<string, unknown>>,
    closed: () => connection.whenClosed,
  };
}

export function sha(char: string): string {
  return char.repeat(64);
}

export { encodeFrame };
