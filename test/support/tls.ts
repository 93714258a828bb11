import { createIdentity, type Identity, tlsTransport, type Transport } from '@p2pservice/protocol';

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
