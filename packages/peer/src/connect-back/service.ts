import type { Socket } from 'node:net';
import { type ConnectBack, createIdentity, type Listener, listenEverywhere, P2PError, type RemotePeer, tlsTransport, type Transport } from '@p2pservice/protocol';
import { ConnectBackArrivals } from './arrivals.js';

/** Where a firewalled holder connects back to a downloader, for the time of one connect-back. */
export interface ConnectBackDoor {
  /** The port the tracker is told (the holder dials it at the address the tracker saw). */
  readonly port: number;
  /** The connection `holderId` opens with `token`, within `timeoutMs`. */
  arrival(token: string, holderId: string, timeoutMs: number): Promise<Socket>;
  /** Done with the door (a door of its own stops listening; a share's port goes on serving). */
  close(): void;
}

export interface ConnectBackOptions {
  /** The peer's transport; a downloader without an identity (it cannot listen) gets a throwaway one here. */
  transport: Transport;
  /** Address of a door of its own (every address when absent). */
  host?: string | undefined;
  /** Port of a door of its own (PEER_PORT, the one its user may have opened); any free one when 0 or taken. */
  port?: number | undefined;
}

/**
 * Everything of this peer's side of connect-back (README#connect-back), in one place: the doors where
 * firewalled holders connect back to our downloads, and the arrivals matched to the requests that asked
 * for them. While the peer shares, the door is a share's port (the one its user may have opened), whose
 * file server hands over each connection that opens with `connect_back`; otherwise a door of its own
 * opens for each connect-back. One service per PeerNode; downloads reach it through the network access.
 */
export class ConnectBackService {
  private readonly arrivals = new ConnectBackArrivals();
  /** Ports of the shares that hand connections over, the first one used as the door. */
  private readonly sharePorts: number[] = [];
  private readonly ownDoors = new Set<Listener>();
  /** A TLS listener needs a certificate: a peer without an identity makes one, once. */
  private throwaway: Transport | undefined;

  constructor(private readonly options: ConnectBackOptions) {}

  /** A connection that opened with `connect_back` on a share's port (its file server read the opening). */
  readonly take = (socket: Socket, remote: RemotePeer, opening: ConnectBack): void => this.arrivals.take(socket, remote, opening);

  /** A share's port is a door while it serves; the returned function ends that (the share stopped). */
  useSharePort(port: number): () => void {
    this.sharePorts.push(port);
    return () => {
      const at = this.sharePorts.indexOf(port);
      if (at >= 0) this.sharePorts.splice(at, 1);
    };
  }

  /** A door for one connect-back: a share's port, or one of its own. */
  async door(): Promise<ConnectBackDoor> {
    const arrival = (token: string, holderId: string, timeoutMs: number) => this.arrivals.arrival(token, holderId, timeoutMs);
    const port = this.sharePorts[0];
    // The share's port goes on serving; an arrival not claimed in time gives up on its own.
    if (port !== undefined) return { port, arrival, close: () => undefined };
    const listener = await this.listenOwn();
    this.ownDoors.add(listener);
    return {
      port: listener.address.port,
      arrival,
      close: () => {
        this.ownDoors.delete(listener);
        void listener.close();
      },
    };
  }

  /** Stops every door of its own, and refuses the arrivals still awaited. */
  close(): void {
    for (const listener of this.ownDoors) void listener.close();
    this.ownDoors.clear();
    this.arrivals.close();
  }

  /** Listens on the configured port, or any free one when that is taken (e.g. by a `peer share` of the same user). */
  private async listenOwn(): Promise<Listener> {
    const { host, port = 0 } = this.options;
    const transport = this.options.transport.canListen ? this.options.transport : (this.throwaway ??= tlsTransport({ identity: createIdentity('connect-back') }));
    const accept = (socket: Socket, remote: RemotePeer) => void this.arrivals.admit(socket, remote);
    const listen = (on: number) => (host === undefined ? listenEverywhere(transport, { port: on }, accept) : transport.listen({ host, port: on }, accept));
    try {
      return await listen(port);
    } catch (error) {
      if (port === 0 || !(error instanceof P2PError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE')) throw error;
      return listen(0);
    }
  }
}
