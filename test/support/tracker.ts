import { type Endpoint, TicketSigner, type Transport } from '@p2pservice/protocol';
import { SqliteStore, type TrackerLimits, TrackerServer } from '@p2pservice/tracker';
import { pino } from 'pino';
import { testIdentity, tlsAs } from './tls.js';

/** A tracker in this process on a loopback port, over its own SQLite file; `close` stops both. */
export interface TestTracker {
  server: TrackerServer;
  store: SqliteStore;
  /** Where it listens, with the identity it proves there. */
  readonly address: Required<Pick<Endpoint, 'host' | 'port' | 'id'>>;
  close(): Promise<void>;
}

export interface TestTrackerOptions {
  limits?: Partial<TrackerLimits>;
  /** Default: TLS as the identity named `identity` (default "tracker"). */
  transport?: Transport;
  identity?: string;
  port?: number;
  networkKey?: Buffer;
  /** Who may come in (default: key with a networkKey, else open); tickets are signed as the tracker's identity. */
  network?: 'open' | 'key' | 'members';
}

export async function startTestTracker(dbFile: string, options: TestTrackerOptions = {}): Promise<TestTracker> {
  const identity = options.identity ?? 'tracker';
  const store = await SqliteStore.open(dbFile);
  const server = await TrackerServer.start({
    host: '127.0.0.1',
    port: options.port ?? 0,
    store,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    limits: options.limits ?? {},
    transport: options.transport ?? tlsAs(identity),
    ...(options.networkKey && { networkKey: options.networkKey }),
    ...(options.network && { network: options.network }),
    ticketSigner: new TicketSigner(testIdentity(identity)),
  });
  return {
    server,
    store,
    address: { ...server.address, id: testIdentity(identity).id },
    async close() {
      await server.close();
      await store.close();
    },
  };
}
