import type { Socket } from 'node:net';
import fc from 'fast-check';
import { ALL_FEATURES, encodeFrame, ERROR_CODES, PROTOCOL_VERSION } from '@p2pservice/protocol';

/** Generators of protocol input, valid, nearly valid and random, shared by the fuzz suites. */

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'id', 'toString', '', '\u0000');
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('../../etc/passwd', '/abs', 'a\\b', 'C:/x', '\u202e', '\u0000', 'x'.repeat(2000), ''),
);
const anyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1.5));
const fileEntry = fc.record({ name: nastyString, size: anyNumber, sha256: fc.oneof(hex64, nastyString) });
const validFile = fc.record({ name: fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}$/), size: fc.nat(), sha256: hex64 });

export const requestLike = fc.oneof(
  fc.record({
    type: fc.constant('hello'),
    protocol: fc.oneof(fc.constant(PROTOCOL_VERSION), anyNumber),
    agent: nastyString,
    features: fc.array(fc.oneof(fc.constantFrom(...ALL_FEATURES), nastyString), { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant('error'), id: fc.oneof(fc.constant(null), anyNumber), code: fc.oneof(fc.constantFrom(...Object.keys(ERROR_CODES)), nastyString), message: nastyString }),
  fc.record({ type: fc.constant('who_has_content'), id: anyNumber, sha256: fc.oneof(hex64, nastyString) }),
  fc.record({ type: fc.constant('register'), id: anyNumber, listenPort: anyNumber, files: fc.array(fc.oneof(validFile, fileEntry), { maxLength: 5 }), more: fc.boolean() }),
  fc.record({ type: fc.constant('update'), id: anyNumber, added: fc.array(fc.oneof(validFile, fileEntry), { maxLength: 3 }), removed: fc.array(nastyString, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('list'), id: anyNumber, after: fc.oneof(fc.constant(null), fc.record({ name: nastyString, sha256: hex64 })), limit: anyNumber }),
  fc.record({ type: fc.constant('who_has'), id: anyNumber, name: nastyString }),
  fc.record({ type: fc.constant('fetch'), id: anyNumber, sha256: fc.oneof(hex64, nastyString), offset: anyNumber }),
  fc.record({ type: fc.constant('ping'), id: anyNumber }),
  fc.constant({ type: 'bye' }),
  fc.dictionary(fc.oneof(nastyKey, fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** One piece of input for a server: a framed message, a mutated frame, or raw bytes. */
export const wireInput = fc.oneof(
  { weight: 4, arbitrary: requestLike.map((m) => encodeFrame(m)) },
  {
    weight: 2,
    arbitrary: fc.tuple(requestLike, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, byte]) => {
      const frame = Buffer.from(encodeFrame(m));
      frame[at % frame.length] = byte;
      return frame;
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 0xffffffff }).map((n) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(n);
      return prefix;
    }),
  },
);

export const hello = encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'fuzz', features: ALL_FEATURES });

/**
 * Writes `bytes` to `socket` in `chunking`-sized pieces, ends it, and resolves with everything the server
 * sent back once the connection has fully closed.
 */
export async function feed(socket: Socket, bytes: Buffer, chunking: number[]): Promise<Buffer> {
  const received: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  for (let at = 0, i = 0; at < bytes.length && !socket.destroyed; i++) {
    const size = chunking[i % chunking.length]!;
    socket.write(bytes.subarray(at, at + size));
    at += size;
  }
  socket.end();
  await closed;
  return Buffer.concat(received);
}
