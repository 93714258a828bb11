import { type Endpoint, formatAddress, P2PError, type Transport } from '@p2pservice/protocol';

/** The refusal of a peer whose listen port does not answer and that cannot serve through connect-back. */
export function unreachableError(listen: Endpoint, reason: string): P2PError {
  return new P2PError('UNREACHABLE', `the tracker cannot reach your listen port ${formatAddress(listen)} (${reason}); check that no firewall blocks incoming connections to it`);
}

/**
 * Why the tracker cannot open a connection to `listen` (expecting its identity, when named), or undefined
 * if it can. Other peers will download from a registering peer's host:port, so the tracker tries it
 * first: a peer behind a firewall or NAT learns so at once, and another program on that port is never
 * listed in its place. `host` is always the address the connection came from, so the check cannot be
 * aimed at third parties.
 */
export async function whyUnreachable(transport: Transport, listen: Endpoint, timeoutMs: number): Promise<string | undefined> {
  try {
    const socket = await transport.dial(listen, { timeoutMs });
    socket.destroy();
    return undefined;
  } catch (error) {
    const code = error instanceof P2PError ? error.code : undefined;
    if (code === 'IDENTITY_MISMATCH') return 'another program answers there, with another identity';
    return error instanceof P2PError ? error.message.replace(/^cannot connect to .*?:\d+: /, '') : String(error);
  }
}
