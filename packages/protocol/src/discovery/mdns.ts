import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Bonjour } from 'bonjour-service';

/**
 * One multicast DNS endpoint (bonjour-service over multicast-dns) on the interface given, or on every
 * IPv4 interface when none is: the one place that knows how that library is started and stopped.
 */
export interface Mdns {
  bonjour: Bonjour;
  close(): Promise<void>;
}

/**
 * Opens it. Socket errors (no multicast route, port 5353 refused) go to `onError`, never up the stack:
 * the library's default for them is to throw where nothing can catch.
 */
export function openMdns(iface: string | undefined, onError: (error: Error) => void): Mdns {
  // Bound to the wildcard address even on one interface: a socket bound to a unicast address never
  // receives what is sent to the multicast group.
  // The options go to multicast-dns as they are; bonjour-service types them as a service's.
  const socketOptions = { ...(iface !== undefined && { interface: iface }), bind: '0.0.0.0' };
  const bonjour = new Bonjour(socketOptions as ConstructorParameters<typeof Bonjour>[0], onError);
  const socket = (bonjour as unknown as { server: { mdns: NodeJS.EventEmitter } }).server.mdns;
  socket.on('error', onError);
  socket.on('warning', onError);
  let closed: Promise<void> | undefined;
  return {
    bonjour,
    close: () => (closed ??= new Promise<void>((resolve) => bonjour.destroy(() => resolve()))),
  };
}

/**
 * The IPv4 interface address to announce on for a listener on `host`, where the listener can be reached:
 * every interface for a wildcard host (undefined), the loopback interface for a loopback host, the
 * interface holding the address otherwise. null when no interface holds it (an IPv6-only interface, say):
 * then nothing is announced.
 */
export function announceInterface(host: string, interfaces = networkInterfaces()): string | undefined | null {
  if (host === '0.0.0.0' || host === '::' || host === '') return undefined;
  if (host === 'localhost' || host === '::1' || host.startsWith('127.')) return '127.0.0.1';
  if (isIP(host) === 4) return host;
  for (const addresses of Object.values(interfaces)) {
    if (!addresses?.some((info) => info.address.toLowerCase() === host.toLowerCase())) continue;
    return addresses.find((info) => info.family === 'IPv4')?.address ?? null;
  }
  return null;
}
