import { formatAddress, type HolderRecord, P2PError, type Transport } from '@p2pservice/protocol';

/**
 * Other peers will download from host:port, so the tracker tries it first, expecting the identity the
 * peer proved on its tracker connection: a peer behind a firewall or NAT learns so at once, and another
 * program on that port is never listed in its place. `host` is always the address the registration came
 * from, so the check cannot be aimed at third parties.
 */
export async function checkReachable(transport: Transport, holder: HolderRecord, timeoutMs: number): Promise<void> {
  const where = formatAddress(holder);
  try {
    const socket = await transport.dial(holder, { timeoutMs });
    socket.destroy();
  } catch (error) {
    const code = error instanceof P2PError ? error.code : undefined;
    const reason =
      code === 'IDENTITY_MISMATCH'
        ? 'another program answers there, with another identity'
        : error instanceof P2PError
          ? error.message.replace(/^cannot connect to .*?:\d+: /, '')
          : String(error);
    throw new P2PError('UNREACHABLE', `the tracker cannot reach your listen port ${where} (${reason}); check that no firewall blocks incoming connections to it`);
  }
}
