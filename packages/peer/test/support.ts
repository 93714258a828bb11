import type { Socket } from 'node:net';
import {
  type Address,
  encodeFrame,
  FramedConnection,
  type HolderReply,
  HolderRequest,
  layerToHex,
  PieceGeometry,
  pieceCountOf,
  pieceSizeFor,
  serverHandshake,
  TrackerSession,
  TreeHasher,
} from '@p2pservice/protocol';
import { pino } from 'pino';
import { anonymousTls, testIdentity, tlsAs } from '@p2pservice/test-support/tls';
import { startTestTracker, type TestTracker } from '@p2pservice/test-support/tracker';

export { anonymousTls, testIdentity, tlsAs };

export const silentLogger = pino({ level: 'silent' });
export type { TestTracker };

/** A tracker on a loopback port (random unless given), checking listen ports as a real one does. */
export function startTracker(dbFile: string, port = 0): Promise<TestTracker> {
  return startTestTracker(dbFile, { port });
}

export type HolderMode =
  | 'honest'
  | 'wrong-bytes'
  | 'fewer-bytes'
  | 'more-bytes'
  | 'close-half-way'
  | 'stall-half-way'
  | 'busy'
  | 'not-found'
  /** Answers the fetch with an error frame carrying `errorCode`, whatever that is. */
  | 'error';

export interface TestHolderOptions {
  mode?: HolderMode;
  /** Pause between chunks of `chunkBytes`, to keep a transfer in flight long enough to interrupt it. */
  chunkDelayMs?: number;
  chunkBytes?: number;
  /** The code of the error frame sent in mode 'error' (any string: local-only codes too). */
  errorCode?: string;
  /** The test identity it proves (to the tracker and to downloaders); default "holder". */
  identity?: string;
  /** The piece-tree root it registers, if not the content's own (a holder lying about the tree). */
  root?: string;
  /**
   * Listens where the tracker cannot reach it (127.0.0.2; the tracker sees it at 127.0.0.1), so it is
   * listed as firewalled and serves only through connect-back.
   */
  firewalled?: boolean;
  /**
   * Offers the content as a partial holder (feature `partial`) instead of registering it, and answers
   * `held` claiming every piece: with mode 'wrong-bytes', a partial holder that lies.
   */
  partial?: boolean;
}

export interface TestHolder {
  port: number;
  /** The identity it proves. */
  id: string;
  /** The offset of every fetch received, in order. */
  fetches: number[];
  /** Bytes of content sent so far (all fetches). */
  sent: () => number;
  /** Behaviour and pace of the next fetches; tests change them between downloads. */
  mode: HolderMode;
  chunkDelayMs: number;
  chunkBytes: number;
  errorCode: string;
  /** A firewalled holder that stops answering connect notices (a stall before the first byte). */
  connectsBack: boolean;
  /** Dies like a killed process: every socket reset, the tracker connection dropped. */
  kill(): Promise<void>;
  /**
   * Lets go of its open connections as a holder closing idle ones does, but unseen: each is closed at its
   * next request, unanswered (the downloader had not seen the close yet).
   */
  letGoOpenConnections(): void;
  /** From now on, answers on the same port with the certificate of another identity (its registration stays). */
  presentAs(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A holder built on the protocol package, registered with the tracker as holding `content` under
 * `name`, that serves fetches honestly (from the asked offset) or misbehaves on purpose as `mode` says.
 */
export async function startTestHolder(tracker: Address, name: string, content: Buffer, sha256: string, options: TestHolderOptions = {}): Promise<TestHolder> {
  const fetches: number[] = [];
  const sockets = new Set<Socket>();
  /** Connections closed at their next request (letGoOpenConnections). */
  const lettingGo = new Set<Socket>();
  const tree = treeOf(content);
  let sent = 0;
  const holder = {
    mode: options.mode ?? 'honest',
    chunkDelayMs: options.chunkDelayMs ?? 0,
    chunkBytes: options.chunkBytes ?? 64 * 1024,
    errorCode: options.errorCode ?? 'INTERNAL',
    connectsBack: true,
  } as TestHolder;
  const transport = tlsAs(options.identity ?? 'holder');
  const serve = async (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const connection = new FramedConnection<HolderRequest, HolderReply>(socket, HolderRequest);
    try {
      await serverHandshake(connection, { agent: 'test-holder', features: options.partial ? ['partial'] : [] });
      for (;;) {
        const request = await connection.receive();
        if (lettingGo.has(socket)) return void socket.destroy();
        if (request.type === 'held') {
          const count = pieceCountOf(content.length);
          const bits = Buffer.alloc(Math.ceil(count / 8), 0xff);
          if (count % 8) bits[bits.length - 1] = (1 << count % 8) - 1;
          await connection.send({ type: 'held_pieces', id: request.id, sha256, count, complete: false, bitfield: bits.toString('base64') });
          continue;
        }
        if (request.type === 'pieces') {
          await connection.send({ type: 'piece_layer', id: request.id, sha256, root: options.root ?? tree.root, pieceSize: pieceSizeFor(content.length), hashes: tree.hashes });
          continue;
        }
        if (request.type !== 'fetch') return;
        fetches.push(request.offset);
        const mode = holder.mode;
        if (mode === 'busy' || mode === 'not-found' || mode === 'error') {
          const code = mode === 'busy' ? 'BUSY' : mode === 'not-found' ? 'NOT_FOUND' : holder.errorCode;
          // Written raw: the test holder may send codes no honest sender can (local-only ones).
          socket.write(encodeFrame({ type: 'error', id: request.id, code, message: `test holder says ${mode === 'error' ? code : mode}` }));
          await connection.whenClosed;
          return;
        }
        // 'more-bytes' announces (and sends) five bytes more than the content has.
        const body = mode === 'more-bytes' ? Buffer.concat([content, Buffer.from('extra')]) : content;
        const { offset } = request;
        const length = mode === 'more-bytes' ? body.length - offset : request.length;
        await connection.send({ type: 'file', id: request.id, sha256, size: body.length, offset, length });
        let rest = body.subarray(offset, offset + length);
        if (mode === 'wrong-bytes') {
          rest = Buffer.from(rest);
          rest[rest.length >> 1]! ^= 0xff;
        }
        if (mode === 'fewer-bytes') rest = rest.subarray(0, rest.length - 1);
        const half = mode === 'close-half-way' || mode === 'stall-half-way' ? rest.length >> 1 : rest.length;
        const step = holder.chunkBytes;
        for (let at = 0; at < half; at += step) {
          const chunk = rest.subarray(at, Math.min(at + step, half));
          await connection.write(chunk);
          sent += chunk.length;
          if (holder.chunkDelayMs) await new Promise((r) => setTimeout(r, holder.chunkDelayMs));
        }
        if (mode === 'close-half-way') socket.destroy();
        if (mode === 'fewer-bytes') socket.end();
        if (mode !== 'honest' && mode !== 'wrong-bytes') break;
      }
      await connection.whenClosed;
    } catch {
      socket.destroy();
    }
  };
  const host = options.firewalled ? '127.0.0.2' : '127.0.0.1';
  let listener = await transport.listen({ host, port: 0 }, (socket) => void serve(socket));
  const port = listener.address.port;
  const session = await TrackerSession.open(tracker, { transport });
  if (options.firewalled) {
    session.onConnectNotice((notice) => {
      if (!holder.connectsBack) return;
      void transport.dial({ host: notice.host, port: notice.port }).then((socket) => {
        socket.write(encodeFrame({ type: 'connect_back', token: notice.token }));
        return serve(socket);
      }, () => undefined);
    });
  }
  if (options.partial) await session.offer(port, { sha256, size: content.length, root: options.root ?? tree.root });
  else await session.register(port, [{ name, size: content.length, sha256, root: options.root ?? tree.root }]);
  if (options.firewalled && !session.firewalled) throw new Error('the test holder was meant to be firewalled');
  const stopServer = () => listener.close();
  const presentAs = async (name: string) => {
    for (const socket of sockets) socket.destroy();
    await listener.close();
    listener = await tlsAs(name).listen({ host, port }, (socket) => void serve(socket));
  };
  return Object.assign(holder, {
    port,
    id: testIdentity(options.identity ?? 'holder').id,
    fetches,
    sent: () => sent,
    presentAs,
    letGoOpenConnections() {
      for (const socket of sockets) lettingGo.add(socket);
    },
    async kill() {
      for (const socket of sockets) socket.destroy();
      session.connection.destroy();
      await stopServer();
    },
    async close() {
      await session.close();
      for (const socket of sockets) socket.destroy();
      await stopServer();
    },
  });
}

/** The piece tree of `content`: its root and its piece layer in hex, as a holder sends it. */
export function treeOf(content: Buffer): { root: string; hashes: string } {
  const hasher = new TreeHasher(new PieceGeometry(content.length));
  hasher.update(content);
  const { root, layer } = hasher.digest();
  return { root: root.toString('hex'), hashes: layerToHex(layer) };
}
