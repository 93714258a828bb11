import { once } from 'node:events';
import { connect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { createIdentity, FramedConnection, type Identity, tlsTransport, type Transport } from '@p2pservice/protocol';
import { z } from 'zod';

/*
 * Identities and TLS transports for tests: every connection in the tests is TLS, as in the programs.
 * Identities are made once per test process and name (a key pair and a certificate cost a few ms).
 */

const identities = new Map<string, Identity>();
const transports = new Map<string, Transport>();

/** The identity of `name` in this test process. */
export function testIdentity(name = 'peer'): Identity {
  let identity = identities.get(name);
  if (!identity) identities.set(name, (identity = createIdentity(`test ${name}`)));
  return identity;
}

/** TLS presenting the identity of `name`: what a sharing peer, a holder or a tracker of the tests speaks. */
export function tlsAs(name = 'peer'): Transport {
  let transport = transports.get(name);
  if (!transport) transports.set(name, (transport = tlsTransport({ identity: testIdentity(name) })));
  return transport;
}

/** TLS without an identity: a downloader or a lister. */
export const anonymousTls: Transport = tlsTransport();

/**
 * A TLS connection to `to` from the loopback address `localAddress` (127.0.0.2, …), presenting
 * `identity` if given: what another machine looks like to a server's per-sender limits. Resolves once
 * TLS is up.
 */
export function dialFrom(localAddress: string, to: { host: string; port: number }, identity?: Identity): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = connect({ host: to.host, port: to.port, localAddress });
    raw.once('error', reject);
    raw.once('connect', () => {
      const socket = tlsConnect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined, ...(identity && { key: identity.key, cert: identity.cert }) });
      socket.once('error', reject);
      socket.once('secureConnect', () => resolve(socket));
    });
  });
}

/**
 * A client slow to start TLS: it connects, waits `delayMs`, then does the TLS handshake and says nothing.
 * Resolves with its framed connection and when it arrived, for tests of the hello deadline.
 */
export async function slowTlsClient(to: { host: string; port: number }, delayMs: number): Promise<{ connection: FramedConnection<unknown, unknown>; arrivedAt: number }> {
  const arrivedAt = Date.now();
  const raw = connect(to);
  await once(raw, 'connect');
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const socket = tlsConnect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined });
  await once(socket, 'secureConnect');
  return { connection: new FramedConnection(socket, z.unknown()), arrivedAt };
}
