import { formatAddress, P2PError, type Transport } from '@p2pservice/protocol';

/**
 * Other peers will download from host:port, so the tracker tries it first: a peer behind a firewall or
 * NAT learns so at once, instead of having its files listed where nobody can fetch them. `host` is always
 * the address the registration came from, so the check cannot be aimed at third parties.
 */
export async function checkReachable(transport: Transport, host: string, port: number, timeoutMs: number): Promise<void> {
  try {
    const socket = await transport.dial({ host, port }, { timeoutMs });
    socket.destroy();
  } catch (error) {
    const reason = error instanceof P2PError ? error.message.replace(/^cannot connect to .*?:\d+: /, '') : String(error);
    throw new P2PError(
      'UNREACHABLE',
      `the tracker cannot reach your listen port ${formatAddress({ host, port })} (${reason}); check that no firewall blocks incoming connections to it`,
    );
  }
}
