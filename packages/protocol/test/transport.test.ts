import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Listener, listenEverywhere, P2PError, type RemotePeer, tcpTransport, TrackerRequest, TrackerSession, FramedConnection, serverHandshake, type Transport } from '../src/index.js';

/* The transport seam: TCP behind it today; sessions and servers use whatever transport they are given. */

const listeners: Listener[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

async function listen(transport: Transport, onConnection: (socket: Socket, remote: RemotePeer) => void, host = '127.0.0.1', port = 0): Promise<Listener> {
  const listener = await transport.listen({ host, port }, (socket, remote) => {
    sockets.push(socket);
    onConnection(socket, remote);
  });
  listeners.push(listener);
  return listener;
}

/** Wraps a transport, counting what goes through it. */
function counting(inner: Transport) {
  const counts = { dials: 0, listens: 0, accepted: 0 };
  const transport: Transport = {
    canListen: inner.canListen,
    dial: (to, options) => {
      counts.dials++;
      return inner.dial(to, options);
    },
    listen: (options, onConnection) => {
      counts.listens++;
      return inner.listen(options, (socket, remote) => {
        counts.accepted++;
        onConnection(socket, remote);
      });
    },
  };
  return { transport, counts };
}

describe('the TCP transport', () => {
  it('listens on a random port, accepts, and carries bytes both ways, reporting the address the bytes came from', async () => {
    let seen: RemotePeer | undefined;
    const listener = await listen(tcpTransport, (socket, remote) => {
      seen = remote;
      socket.on('data', (data) => socket.end(Buffer.concat([Buffer.from('echo:'), data])));
    });
    expect(listener.address.port).toBeGreaterThan(0);
    const socket = await tcpTransport.dial(listener.address);
    sockets.push(socket);
    const localPort = socket.localPort;
    socket.end('ping');
    const reply = Buffer.concat(await socket.toArray()).toString();
    expect(reply).toBe('echo:ping');
    expect(seen).toEqual({ host: '127.0.0.1', port: localPort });
  });

  it('turns IPv4-mapped IPv6 peers back into IPv4 addresses', async () => {
    let seen: RemotePeer | undefined;
    const listener = await listen(tcpTransport, (socket, remote) => {
      seen = remote;
      socket.end();
    }, '::', 0).catch(() => undefined);
    if (!listener) return; // no IPv6 on this machine: nothing to map
    const socket = await tcpTransport.dial({ host: '127.0.0.1', port: listener.address.port });
    sockets.push(socket);
    await socket.toArray();
    expect(seen?.host).toBe('127.0.0.1');
  });

  it('says which port is taken, with a hint, when it cannot listen', async () => {
    const first = await listen(tcpTransport, () => undefined);
    await expect(tcpTransport.listen({ host: '127.0.0.1', port: first.address.port }, () => undefined)).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: `port 127.0.0.1:${first.address.port} is already in use`,
      hint: 'stop the other program or pass --port',
    });
    await expect(tcpTransport.listen({ host: '127.0.0.1', port: first.address.port, portHint: 'pass another --port' }, () => undefined)).rejects.toMatchObject({ hint: 'pass another --port' });
    await expect(tcpTransport.listen({ host: '192.0.2.1', port: 0, hostHint: 'check PEER_HOST' }, () => undefined)).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
      message: 'address 192.0.2.1 is not on this machine',
      hint: 'check PEER_HOST',
    });
  });

  it('names the address and the reason when it cannot connect', async () => {
    const listener = await tcpTransport.listen({ host: '127.0.0.1', port: 0 }, () => undefined);
    const { port } = listener.address;
    await listener.close();
    await expect(tcpTransport.dial({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: `cannot connect to 127.0.0.1:${port}: connection refused` });
  });
});

describe('sessions and servers use the transport they are given', () => {
  it('dials and accepts through an injected transport', async () => {
    const { transport, counts } = counting(tcpTransport);
    const listener = await listen(transport, (socket) => {
      void serverHandshake(new FramedConnection(socket, TrackerRequest), { agent: 'x', features: [] }).catch(() => undefined);
    });
    const session = await TrackerSession.open(listener.address, { transport });
    expect(counts).toEqual({ dials: 1, listens: 1, accepted: 1 });
    session.connection.destroy();
  });
});

describe('listening on every address (listenEverywhere)', () => {
  const echoOnce = (socket: Socket) => socket.end('hi');
  const readAll = (socket: Socket) => new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d) => (text += d)).on('end', () => resolve(text));
  });

  it('takes IPv6 and IPv4 connections on one port', async () => {
    const listener = await listenEverywhere(tcpTransport, { port: 0 }, echoOnce);
    listeners.push(listener);
    expect(listener.address.host).toBe('::');
    const remotes: string[] = [];
    for (const host of ['::1', '127.0.0.1']) {
      const socket = await tcpTransport.dial({ host, port: listener.address.port });
      sockets.push(socket);
      expect(await readAll(socket)).toBe('hi');
      remotes.push(socket.remoteAddress!);
    }
    expect(remotes).toEqual(['::1', '127.0.0.1']);
  });

  it('falls back to every IPv4 address where the system refuses IPv6, and reports any other failure', async () => {
    // A system without IPv6 answers a listen on :: with EAFNOSUPPORT; this transport answers as it would.
    const noIpv6: Transport = {
      canListen: true,
      dial: (to, options) => tcpTransport.dial(to, options),
      listen: (options, onConnection) =>
        options.host === '::' ? Promise.reject(new P2PError('LISTEN_FAILED', 'cannot listen on [::]:0', undefined, { cause: Object.assign(new Error('address family not supported'), { code: 'EAFNOSUPPORT' }) })) : tcpTransport.listen(options, onConnection),
    };
    const listener = await listenEverywhere(noIpv6, { port: 0 }, echoOnce);
    listeners.push(listener);
    expect(listener.address.host).toBe('0.0.0.0');

    const taken = await listenEverywhere(tcpTransport, { port: 0 }, echoOnce);
    listeners.push(taken);
    await expect(listenEverywhere(tcpTransport, { port: taken.address.port, portHint: 'pick another' }, echoOnce)).rejects.toMatchObject({ code: 'LISTEN_FAILED', hint: 'pick another' });
  });
});
