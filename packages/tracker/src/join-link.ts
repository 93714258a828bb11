import { formatLink, formatNetworkKey, parseEndpoint } from '@p2pservice/protocol';
import type { NetworkKind } from './server/member-gate.js';

/**
 * The join links of a tracker, one per address peers connect with (`HOST:PORT#IDENTITY`): on a private
 * network with its key (`?key=`), so that one link is all a peer needs. A members network has none of
 * its own: each member joins with the link of an invite (`tracker invite`).
 */
export function joinLinks(addresses: readonly string[], network: NetworkKind, networkKey: Buffer | undefined): string[] {
  if (network === 'members') return [];
  return addresses.map((address) => {
    const endpoint = parseEndpoint(address);
    return formatLink({ ...endpoint, id: endpoint.id!, ...(network === 'key' && networkKey && { key: formatNetworkKey(networkKey) }) });
  });
}

/** A link drawn as a QR code for a terminal (two rows of modules per line), for a phone or laptop camera. */
export async function terminalQr(link: string): Promise<string> {
  // The QR code library is loaded only where one is drawn.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(link, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}

/** A link as a QR code in SVG, for the status page (no script: the page has none). */
export async function svgQr(link: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'L', margin: 2 });
}
