import { networkInterfaces } from 'node:os';
import { formatEndpoint } from '@p2pservice/protocol';

/**
 * The addresses to give to peers: the listen address itself, or — listening on every interface — each
 * address this machine has on its networks (loopback only when there is nothing else).
 */
export function peerAddresses(listenHost: string, port: number, id: string): string[] {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return [formatEndpoint({ host: listenHost, port, id })];
  const hosts = Object.values(networkInterfaces())
    .flat()
    .filter((info) => info && !info.internal && (info.family === 'IPv4' || listenHost === '::'))
    .map((info) => info!.address);
  return (hosts.length > 0 ? hosts : ['127.0.0.1']).map((host) => formatEndpoint({ host, port, id }));
}
