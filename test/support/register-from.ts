import { ALL_FEATURES, type FileEntry, FramedConnection, PROTOCOL_VERSION } from '@p2pservice/protocol';
import { z } from 'zod';
import { dialFrom, testIdentity } from './tls.js';

/**
 * A sharing peer on another machine, as the tracker sees it: a connection from the loopback address
 * `from` (127.0.0.2, …) as the test identity `name`, that registers `files` as listening on `listenPort`
 * (a port nobody serves: listed as firewalled). Resolves with the open connection once registered.
 */
export async function registerFrom(from: string, tracker: { host: string; port: number }, name: string, files: readonly FileEntry[], listenPort = 9): Promise<FramedConnection<unknown, unknown>> {
  const connection = new FramedConnection(await dialFrom(from, tracker, testIdentity(name)), z.unknown());
  await connection.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'test-sharer', features: ALL_FEATURES });
  const welcome = (await connection.receive(5_000)) as { type: string };
  if (welcome.type !== 'welcome') throw new Error(`tracker answered hello with ${JSON.stringify(welcome)}`);
  await connection.send({ type: 'register', id: 1, listenPort, files, more: false });
  const registered = (await connection.receive(15_000)) as { type: string };
  if (registered.type !== 'registered') throw new Error(`tracker answered register with ${JSON.stringify(registered)}`);
  return connection;
}
