import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTo, encodeFrame, FramedConnection, PROTOCOL_VERSION } from '@p2pservice/protocol';
import { pino } from 'pino';
import { z } from 'zod';
import { TrackerServer } from '../src/index.js';
import type { TrackerLimits } from '../src/limits.js';

export const silentLogger = pino({ level: 'silent' });

export function tempDir(prefix = 'p2p-tracker-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A tracker on a random port. Registrations here name made-up listen ports, so the reachability check
 * is off unless a test turns it on. */
export async function startTracker(dbFile: string, limits: Partial<TrackerLimits> = {}): Promise<TrackerServer> {
  return TrackerServer.start({ host: '127.0.0.1', port: 0, dbFile, logger: silentLogger, limits: { verifyReachable: false, ...limits } });
}

/** A client that speaks raw frames, valid or not, for probing the server. */
export async function rawClient(port: number, hello = true) {
  const socket = await connectTo({ host: '127.0.0.1', port });
  const connection = new FramedConnection(socket, z.unknown());
  if (hello) {
    await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'raw-test' });
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
