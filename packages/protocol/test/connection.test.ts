import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  clientHandshake,
  connectTo,
  encodeFrame,
  FramedConnection,
  HolderReply,
  HolderRequest,
  P2PError,
  PROTOCOL_VERSION,
  serverHandshake,
} from '../src/index.js';
import { fakeServers } from './support.js';

const serve = fakeServers();
const listen = async (onSocket: (socket: Socket) => void): Promise<number> => (await serve(onSocket)).port;

describe('FramedConnection over real sockets', () => {
  it('streams a raw body through a slow reader with bounded buffering and identical bytes', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const port = await listen(async (socket) => {
      const server = new FramedConnection(socket, HolderRequest);
      await serverHandshake(server, { agent: 'test-holder', features: [] });
      const fetch = await server.receive();
      if (fetch.type !== 'fetch') throw new Error('expected fetch');
      await server.send({ type: 'file', id: fetch.id, sha256: fetch.sha256, size: body.length, offset: 0, length: body.length });
      for (let at = 0; at < body.length; at += 65536) await server.write(body.subarray(at, at + 65536));
      await server.send({ type: 'error', id: null, code: 'NOT_FOUND', message: 'after the body' });
    });
    const client = new FramedConnection(await connectTo({ host: '127.0.0.1', port }), HolderReply);
    await clientHandshake(client, { agent: 'test', features: [], from: 'holder' });
    const sha256 = createHash('sha256').update(body).digest('hex');
    await client.send({ type: 'fetch', id: 1, sha256, offset: 0, length: body.length } as never);
    const header = await client.receive();
    expect(header).toMatchObject({ type: 'file', length: body.length });
    const raw = client.readRaw(body.length);
    const hash = createHash('sha256');
    let received = 0;
    let maxBuffered = 0;
    for await (const chunk of raw) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
      maxBuffered = Math.max(maxBuffered, client.bufferedBytes);
      await new Promise((r) => setTimeout(r, 1)); // a slow disk
    }
    expect(received).toBe(body.length);
    expect(hash.digest('hex')).toBe(sha256);
    // The frame after the body is still read as a frame: framing stays in step.
    expect(await client.receive()).toMatchObject({ type: 'error', message: 'after the body' });
    expect(maxBuffered).toBeLessThan(1024 * 1024);
    client.destroy();
  });

  it('errors the raw stream with CONNECTION_CLOSED when the sender hangs up half way', async () => {
    const port = await listen((socket) => {
      socket.write(encodeFrame({ type: 'file', id: 1, sha256: 'a'.repeat(64), size: 1000, offset: 0, length: 1000 }));
      socket.end(Buffer.alloc(400));
    });
    const client = new FramedConnection(await connectTo({ host: '127.0.0.1', port }), HolderReply);
    await client.receive();
    const chunks: Buffer[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of client.readRaw(1000)) chunks.push(chunk as Buffer);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(P2PError);
    expect((error as P2PError).code).toBe('CONNECTION_CLOSED');
    expect((error as P2PError).message).toContain('400 of 1000');
  });

  it('rejects a message that fails the schema with BAD_MESSAGE', async () => {
    const port = await listen((socket) => socket.write(encodeFrame({ type: 'file', id: 'one' })));
    const client = new FramedConnection(await connectTo({ host: '127.0.0.1', port }), HolderReply);
    await expect(client.receive()).rejects.toMatchObject({ code: 'BAD_MESSAGE' });
    client.destroy();
  });

  it('times out a receive that gets nothing', async () => {
    const port = await listen(() => undefined);
    const client = new FramedConnection(await connectTo({ host: '127.0.0.1', port }), z.unknown());
    await expect(client.receive(50)).rejects.toMatchObject({ code: 'TIMEOUT' });
    client.destroy();
  });
});

describe('handshake', () => {
  it('answers a hello of another version with VERSION_MISMATCH, not silence', async () => {
    const result = new Promise<unknown>((resolve) => {
      void listen(async (socket) => {
        const server = new FramedConnection(socket, z.unknown());
        await serverHandshake(server, { agent: 'x', features: [] }).catch(async (error: P2PError) => {
          resolve(error.code);
          await server.fail(error);
        });
      }).then(async (port) => {
        const socket = await connectTo({ host: '127.0.0.1', port });
        const client = new FramedConnection(socket, z.unknown());
        await client.send({ type: 'hello', protocol: PROTOCOL_VERSION + 1, agent: 'future', newField: true });
        expect(await client.receive()).toMatchObject({ type: 'error', code: 'VERSION_MISMATCH' });
      });
    });
    expect(await result).toBe('VERSION_MISMATCH');
  });

  it('fails a connection that never says hello with HANDSHAKE_TIMEOUT', async () => {
    const result = new Promise<unknown>((resolve) => {
      void listen(async (socket) => {
        const server = new FramedConnection(socket, z.unknown());
        await serverHandshake(server, { agent: 'x', features: [], timeoutMs: 100 }).catch((error: P2PError) => resolve(error.code));
        server.destroy();
      }).then((port) => connectTo({ host: '127.0.0.1', port }));
    });
    expect(await result).toBe('HANDSHAKE_TIMEOUT');
  });

  it('names the address when a connection is refused', async () => {
    const { port, server } = await serve(() => undefined);
    await new Promise((r) => server.close(r));
    await expect(connectTo({ host: '127.0.0.1', port })).rejects.toThrow(`cannot connect to 127.0.0.1:${port}: connection refused`);
  });
});
