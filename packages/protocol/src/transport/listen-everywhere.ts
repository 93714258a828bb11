import { P2PError } from '../core/errors.js';
import type { Listener, ListenOptions, RemotePeer, Transport } from './transport.js';
import type { Socket } from 'node:net';

/** What a machine without IPv6 answers to a listen on `::`. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * Listens on every address of both families: `::`, which takes IPv4 connections too (as IPv4-mapped
 * addresses) on Linux, macOS and Windows, so a peer answers over whichever family others reached the
 * tracker with. On a machine without IPv6 it listens on every IPv4 address (`0.0.0.0`) instead.
 */
export async function listenEverywhere(transport: Transport, options: Omit<ListenOptions, 'host'>, onConnection: (socket: Socket, remote: RemotePeer) => void): Promise<Listener> {
  try {
    return await transport.listen({ ...options, host: '::' }, onConnection);
  } catch (error) {
    const code = error instanceof P2PError ? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
    if (code === undefined || !NO_IPV6.has(code)) throw error;
    return transport.listen({ ...options, host: '0.0.0.0' }, onConnection);
  }
}
