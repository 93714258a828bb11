import { isIP } from 'node:net';

/**
 * Whether an HTTP Host header names this machine by address or as localhost (with any port). A local
 * web page or endpoint checks it so that another site cannot reach it through a DNS name rebound to
 * 127.0.0.1 (its requests carry that name as their Host).
 */
export function isLocalHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isIP(name) !== 0 || name.toLowerCase() === 'localhost';
}

/** Whether `host` (a listen address) is this machine only. */
export function isLoopbackAddress(host: string): boolean {
  return /^(127(\.\d{1,3}){3}|::1|localhost)$/i.test(host);
}
