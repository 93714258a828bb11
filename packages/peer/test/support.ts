import { createServer, type Server } from 'node:net';
import {
  type Address,
  FramedConnection,
  type HolderReply,
  HolderRequest,
  serverHandshake,
  TrackerSession,
} from '@p2pservice/protocol';
import { TrackerServer } from '@p2pservice/tracker';
import { pino } from 'pino';

export const silentLogger = pino({ level: 'silent' });

export async function startTracker(dbFile: string): Promise<TrackerServer> {
  return TrackerServer.start({ host: '127.0.0.1', port: 0, dbFile, logger: silentLogger });
}

export type Misbehaviour = 'wrong-bytes' | 'fewer-bytes' | 'more-bytes' | 'close-half-way' | 'busy' | 'not-found';

/**
 * A holder built on the protocol package that misbehaves on purpose, registered with the tracker as
 * holding `content`. It answers every fetch the way `mode` says.
 */
export async function startLyingHolder(
  tracker: Address,
  name: string,
  content: Buffer,
  sha256: string,
  mode: Misbehaviour,
): Promise<{ server: Server; session: TrackerSession; fetches: number[]; close(): Promise<void> }> {
  const fetches: number[] = [];
  const server = createServer(async (socket) => {
    const connection = new FramedConnection<HolderRequest, HolderReply>(socket, HolderRequest);
    try {
      await serverHandshake(connection, 'liar');
      const request = await connection.receive();
      if (request.type !== 'fetch') return;
      fetches.push(request.offset);
      if (mode === 'busy' || mode === 'not-found') {
        await connection.send({ type: 'error', id: request.id, code: mode === 'busy' ? 'BUSY' : 'NOT_FOUND', message: `liar says ${mode}` });
        return;
      }
      // 'more-bytes' announces (and sends) five bytes more than the content has.
      const size = content.length + (mode === 'more-bytes' ? 5 : 0);
      await connection.send({ type: 'file', id: request.id, sha256, size, offset: 0, length: size });
      if (mode === 'wrong-bytes') {
        const wrong = Buffer.from(content);
        wrong[wrong.length >> 1] ^= 0xff;
        await connection.write(wrong);
      } else if (mode === 'fewer-bytes') {
        await connection.write(content.subarray(0, size - 1));
        socket.end();
      } else if (mode === 'more-bytes') {
        await connection.write(Buffer.concat([content, Buffer.from('extra')]));
      } else if (mode === 'close-half-way') {
        await connection.write(content.subarray(0, size >> 1));
        socket.destroy();
      }
      await connection.whenClosed;
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const session = await TrackerSession.open(tracker);
  await session.register(port, [{ name, size: content.length, sha256 }]);
  return {
    server,
    session,
    fetches,
    async close() {
      await session.close();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
