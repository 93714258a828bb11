import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectTo,
  encodeFrame,
  FramedConnection,
  HolderSession,
  P2PError,
  PROTOCOL_VERSION,
  RemoteError,
  serverHandshake,
  tcpTransport,
  TrackerRequest,
  TrackerSession,
} from '../src/index.js';
import { fakeServers } from './support.js';

/* The opening exchange, feature negotiation, and what each side says when the other breaks the rules. */

const listen = fakeServers();
// These fake servers speak frames over plain TCP: the layers above the transport are what is tested here.
const plain = { transport: tcpTransport };

describe('feature negotiation', () => {
  it('puts in force only the features both sides named, ignoring names either does not know', async () => {
    let seenByServer: string[] = [];
    const address = await listen(async (socket) => {
      const connection = new FramedConnection(socket, TrackerRequest);
      const { opening, features } = await serverHandshake(connection, { agent: 'test-tracker', features: ['who_has_content'] });
      expect(opening.features).toEqual(['who_has_content', 'queue', 'from_the_future']);
      seenByServer = [...features];
    });
    const session = await TrackerSession.open(address, { ...plain, features: ['who_has_content', 'queue', 'from_the_future' as never] });
    expect(session.welcome?.features).toEqual(['who_has_content']);
    expect([...session.features]).toEqual(['who_has_content']);
    expect(seenByServer).toEqual(['who_has_content']);
    expect(session.supports('queue')).toBe(false);
    session.connection.destroy();
  });

  it('ignores a feature the server agreed to that the client never named', async () => {
    const address = await listen(async (socket) => {
      const connection = new FramedConnection(socket, z.unknown());
      await connection.receive();
      await connection.send({ type: 'welcome', protocol: PROTOCOL_VERSION, agent: 'pushy', features: ['queue', 'who_has_content'], network: 'open' });
    });
    const session = await TrackerSession.open(address, { ...plain, features: ['who_has_content'] });
    expect([...session.features]).toEqual(['who_has_content']);
    await expect(HolderSession.open(address, { ...plain, features: [] }).then((h) => [...h.features])).resolves.toEqual([]);
    session.connection.destroy();
  });

  it('refuses to send a request of a feature that is not in force', async () => {
    const address = await listen(async (socket) => {
      await serverHandshake(new FramedConnection(socket, TrackerRequest), { agent: 'old-tracker', features: [] });
    });
    const session = await TrackerSession.open(address, plain);
    await expect(session.whoHasContent('a'.repeat(64))).rejects.toMatchObject({ code: 'UNEXPECTED_MESSAGE', message: expect.stringContaining('who_has_content') });
    session.connection.destroy();
  });
});

describe('a receiver answers a frame it cannot accept with an error frame, client or server', () => {
  /** A fake tracker that answers the hello with `reply` bytes, and resolves with what the client sends back. */
  async function fakeTracker(reply: Buffer) {
    let answered!: (frames: unknown[]) => void;
    const frames = new Promise<unknown[]>((resolve) => (answered = resolve));
    const address = await listen(async (socket) => {
      const connection = new FramedConnection(socket, z.unknown());
      await connection.receive();
      socket.write(reply);
      const received: unknown[] = [];
      for (;;) {
        try {
          received.push(await connection.receive(2_000));
        } catch {
          break;
        }
      }
      answered(received);
    });
    return { address, frames };
  }

  const prefix = (n: number) => {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(n);
    return buffer;
  };

  it.each([
    ['an oversized length prefix', prefix(0xffffffff), 'FRAME_TOO_LARGE'],
    ['a body that is not JSON', Buffer.concat([prefix(5), Buffer.from('{nope')]), 'BAD_JSON'],
    ['a body with a byte order mark', Buffer.concat([prefix(17), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"type":"bye"}')]), 'BAD_JSON'],
    ['JSON that is not a message', encodeFrame({ type: 'welcome', protocol: PROTOCOL_VERSION }), 'BAD_MESSAGE'],
  ])('on %s the client says %s and closes', async (_label, reply, code) => {
    const { address, frames } = await fakeTracker(reply);
    await expect(TrackerSession.open(address, plain)).rejects.toMatchObject({ code });
    expect(await frames).toEqual([{ type: 'error', id: null, code, message: expect.any(String) }]);
  });
});

describe('error frames', () => {
  it('become RemoteErrors that name the sender and keep the wire code', async () => {
    const address = await listen(async (socket) => {
      const connection = new FramedConnection(socket, z.unknown());
      await connection.receive();
      await connection.send({ type: 'error', id: null, code: 'TOO_MANY_CONNECTIONS', message: 'full\u001b[2J' });
    });
    const error = await TrackerSession.open(address, plain).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'TOO_MANY_CONNECTIONS', from: `127.0.0.1:${address.port}`, message: `127.0.0.1:${address.port}: full\\u{1b}[2J` });
  });

  it('never carry a local condition: a failure of our own goes out as INTERNAL, without its details', async () => {
    const address = await listen(async (socket) => {
      const connection = new FramedConnection(socket, TrackerRequest);
      await serverHandshake(connection, { agent: 'x', features: [] });
      await connection.fail(new P2PError('IO_ERROR', 'cannot write /secret/path: no space left'));
    });
    const raw = new FramedConnection(await connectTo(address), z.unknown());
    await raw.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'probe', features: [] });
    await raw.receive();
    expect(await raw.receive()).toEqual({ type: 'error', id: null, code: 'INTERNAL', message: 'internal error' });
  });
});
