import { generateKeyPairSync } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createIdentity,
  encodeFrame,
  FramedConnection,
  generateNetworkKey,
  type Identity,
  IdentityMismatchError,
  isMembershipProof,
  type Listener,
  membershipMaterial,
  membershipProof,
  parseNetworkKey,
  PROTOCOL_VERSION,
  serverHandshake,
  tlsIdentityOf,
  tlsTransport,
  TrackerRequest,
  TrackerSession,
} from '../src/index.js';
import { selfSignedCertificate, toPem } from '../src/identity/certificate.js';
import { eventually } from '@p2pservice/test-support/wait';
import { identityOfCertificate } from '../src/identity/identity-id.js';

/* TLS under every connection: identities checked and pinned, everyone else refused. */

const server = createIdentity('server');
const client = createIdentity('client');
const listeners: Listener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

/** A TLS listener as `identity` that remembers who connected, and answers "hi". */
async function serve(identity: Identity, options: Parameters<typeof tlsTransport>[0] = {}) {
  const seen: (string | undefined)[] = [];
  const listener = await tlsTransport({ identity, ...options }).listen({ host: '127.0.0.1', port: 0 }, (socket, remote) => {
    sockets.push(socket);
    seen.push(remote.id);
    socket.end('hi');
  });
  listeners.push(listener);
  return { ...listener.address, seen };
}

async function dial(transport: ReturnType<typeof tlsTransport>, to: Parameters<typeof transport.dial>[0]) {
  const socket = await transport.dial(to);
  sockets.push(socket);
  return socket;
}

/** An identity whose certificate is not self-signed: it carries its own public key, signed by another. */
function notSelfSigned(): Identity {
  const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = selfSignedCertificate(other.privateKey, mine.publicKey, { commonName: 'forged', notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + 3_600_000) });
  return { key: mine.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: toPem(der, 'CERTIFICATE'), id: identityOfCertificate(der) };
}

describe('TLS with identities', () => {
  it('speaks TLS 1.3, and each end learns the identity the other proved', async () => {
    const address = await serve(server);
    const socket = await dial(tlsTransport({ identity: client }), { ...address, id: server.id });
    expect((socket as import('node:tls').TLSSocket).getProtocol()).toBe('TLSv1.3');
    expect(tlsIdentityOf(socket)).toBe(server.id);
    expect(Buffer.concat(await socket.toArray()).toString()).toBe('hi');
    expect(address.seen).toEqual([client.id]);
  });

  it('lets a client without an identity in (it can list, not share), and says so', async () => {
    const address = await serve(server);
    const socket = await dial(tlsTransport(), address);
    await socket.toArray();
    expect(address.seen).toEqual([undefined]);
  });

  it('refuses a server that proves another identity than the one pinned', async () => {
    const address = await serve(server);
    const error = await tlsTransport().dial({ ...address, id: client.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityMismatchError);
    expect(error).toMatchObject({ code: 'IDENTITY_MISMATCH', expected: client.id, presented: server.id });
  });

  it.each([
    ['expired', () => createIdentity('expired', new Date(Date.UTC(2000, 0, 1))), /presented a certificate that expired on/],
    ['not yet valid', () => createIdentity('future', new Date(Date.now() + 10 * 86_400_000)), /presented a certificate not valid before/],
    ['not self-signed', notSelfSigned, /presented a certificate that is not self-signed/],
  ])('refuses a server whose certificate is %s', async (_label, make, message) => {
    const address = await serve(make());
    await expect(tlsTransport().dial(address)).rejects.toMatchObject({ code: 'BAD_CERTIFICATE', message: expect.stringMatching(message) });
  });

  it('gives a client with an expired or forged certificate no conversation', async () => {
    const address = await serve(server);
    for (const bad of [createIdentity('expired', new Date(Date.UTC(2000, 0, 1))), notSelfSigned()]) {
      const socket = await dial(tlsTransport({ identity: bad }), address);
      expect(Buffer.concat(await socket.toArray()).toString()).toBe('');
    }
    expect(address.seen).toEqual([]);
  });
});

describe('programs that do not speak TLS', () => {
  it('a protocol-1 client on a TLS port is answered VERSION_MISMATCH in plain, and closed at once', async () => {
    const address = await serve(server);
    const raw = connect(address.port, '127.0.0.1');
    raw.write(encodeFrame({ type: 'hello', protocol: 1, agent: 'p2pservice-peer/0.0.9' }));
    const started = Date.now();
    const answer = Buffer.concat(await raw.toArray());
    expect(Date.now() - started).toBeLessThan(2_000); // closed promptly, not at a timeout
    expect(answer.readUInt32BE(0)).toBe(answer.length - 4);
    expect(JSON.parse(answer.subarray(4).toString())).toEqual({
      type: 'error',
      id: null,
      code: 'VERSION_MISMATCH',
      message: `this side speaks protocol ${PROTOCOL_VERSION}, inside TLS; upgrade to a P2PService that does`,
    });
  });

  it('a TLS client of a protocol-1 server says the server does not speak TLS', async () => {
    // What a protocol-1 tracker does with a TLS ClientHello: takes its first bytes for a length prefix.
    const old = createServer((socket) => {
      socket.once('data', () => socket.end(encodeFrame({ type: 'error', id: null, code: 'FRAME_TOO_LARGE', message: 'frame of 369295616 bytes exceeds the limit of 1048576' })));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const port = (old.address() as { port: number }).port;
    try {
      await expect(tlsTransport().dial({ host: '127.0.0.1', port })).rejects.toMatchObject({
        code: 'VERSION_MISMATCH',
        message: `127.0.0.1:${port} does not speak TLS: it may run an older P2PService (protocol 1)`,
      });
    } finally {
      old.close();
    }
  });
});

describe('handshakes are bounded', () => {
  it('closes connections that stall before or during the handshake at the deadline, serving others meanwhile', async () => {
    const address = await serve(server, { handshakeTimeoutMs: 300 });
    // From another loopback address: a flood that says nothing, and one that stops mid-ClientHello.
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: address.port, localAddress: '127.0.0.2' }, () => resolve(socket));
        socket.on('error', () => undefined);
      });
    const silent = await Promise.all(Array.from({ length: 60 }, open));
    const halfway = await Promise.all(Array.from({ length: 20 }, open));
    for (const socket of halfway) socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const closed = [...silent, ...halfway].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    const socket = await dial(tlsTransport({ identity: client }), { ...address, id: server.id });
    expect(Buffer.concat(await socket.toArray()).toString()).toBe('hi');
    await Promise.all(closed); // every stalled connection is closed (the test would time out otherwise)
  });

  it('keeps a flood of silent connections from one address from locking others out of the port', async () => {
    const address = await serve(server, { maxPendingHandshakes: 8, maxPendingPerAddress: 2, maxWaitingHandshakes: 20, maxWaitingPerAddress: 10, handshakeTimeoutMs: 20_000 });
    /** `count` connections from `from` that say nothing; resolves with them and how many the server closed. */
    const flood = async (from: string, count: number) => {
      let closed = 0;
      const flooding = await Promise.all(
        Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port: address.port, localAddress: from }, () => resolve(socket));
          socket.on('error', () => undefined);
          socket.once('close', () => closed++);
          sockets.push(socket);
        })),
      );
      return { flooding, closed: () => closed };
    };
    // Two machines flood; each keeps only its own slots and its own line (2 + 10), the rest closed at once
    // (long before the deadline, which would empty the line by itself).
    const first = await flood('127.0.0.2', 100);
    const second = await flood('127.0.0.3', 100);
    await eventually(() => first.closed() >= 88 && second.closed() >= 88);
    // The whole line (20) is full of their connections; a third machine's still get in, and are served.
    const transport = tlsTransport();
    const answers = await Promise.all(Array.from({ length: 10 }, async () => Buffer.concat(await (await dial(transport, address)).toArray()).toString()));
    expect(answers).toEqual(Array(10).fill('hi'));
  });

  it('queues a burst from one address beyond its handshake slots, and serves it all', async () => {
    const address = await serve(server, { maxPendingPerAddress: 2, maxPendingHandshakes: 4 });
    const transport = tlsTransport();
    const answers = await Promise.all(Array.from({ length: 30 }, async () => Buffer.concat(await (await dial(transport, address)).toArray()).toString()));
    expect(answers).toEqual(Array(30).fill('hi'));
  });
});

describe('membership proofs', () => {
  it('match the worked example of the spec', () => {
    const key = parseNetworkKey('ucq2fi5e-UWTK-PKFJ-VKV2-ZLNO-V6YL-DMVT-WS23-NN5Y-XG5L-XPF5-X27Q');
    expect(key.toString('hex')).toBe(Buffer.from(Array.from({ length: 32 }, (_, i) => 0xa0 + i)).toString('hex'));
    const material = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x40 + i));
    expect(membershipProof(key, material)).toBe('74010faafa6427125a6e5d01aa8a0f78b316a12ae47e93960fddead86d3b33d1');
    expect(isMembershipProof(key, material, '74010faafa6427125a6e5d01aa8a0f78b316a12ae47e93960fddead86d3b33d1')).toBe(true);
    expect(isMembershipProof(key, material, '0'.repeat(64))).toBe(false);
    expect(isMembershipProof(key, material, undefined)).toBe(false);
  });

  it('accept only keys made to be keys: 256 random bits, never a passphrase', () => {
    const key = generateNetworkKey();
    expect(key).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    expect(parseNetworkKey(key.toLowerCase().replace(/-/g, ''))).toEqual(parseNetworkKey(key));
    for (const weak of ['correct horse battery staple', 'clubsecret', 'A'.repeat(51), `${'A'.repeat(51)}B`]) {
      expect(() => parseNetworkKey(weak)).toThrowError(expect.objectContaining({ code: 'BAD_CONFIG', message: 'NETWORK_KEY is not a network key' }));
    }
  });

  it('are bound to their TLS session: a proof replayed on another connection is refused', async () => {
    const key = parseNetworkKey(generateNetworkKey());
    const outcomes: string[] = [];
    const listener = await tlsTransport({ identity: server }).listen({ host: '127.0.0.1', port: 0 }, (socket) => {
      sockets.push(socket);
      const connection = new FramedConnection(socket, TrackerRequest);
      serverHandshake(connection, { agent: 'private', features: [], networkKey: key }).then(
        () => outcomes.push('welcome'),
        async (error: { code: string }) => {
          outcomes.push(error.code);
          await connection.fail(error);
        },
      );
    });
    listeners.push(listener);
    const member = await TrackerSession.open({ ...listener.address, id: server.id }, { networkKey: key });
    expect(member.isPrivateNetwork).toBe(true);
    // A proof made on another session, sent on this one.
    const first = await dial(tlsTransport(), listener.address);
    const stolen = membershipProof(key, membershipMaterial(first));
    const second = new FramedConnection(await dial(tlsTransport(), listener.address), z.unknown());
    await second.send({ type: 'hello', protocol: PROTOCOL_VERSION, agent: 'replay', features: [], proof: stolen });
    expect(await second.receive(2_000)).toMatchObject({ type: 'error', code: 'ACCESS_DENIED', message: expect.stringContaining('wrong network key') });
    await expect(TrackerSession.open(listener.address, { networkKey: parseNetworkKey(generateNetworkKey()) })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(TrackerSession.open(listener.address)).rejects.toMatchObject({ code: 'ACCESS_DENIED', message: expect.stringContaining('carried no proof') });
    expect(outcomes.filter((o) => o === 'ACCESS_DENIED')).toHaveLength(3);
    member.connection.destroy();
    first.destroy();
  });
});
