import { type Address, type Transport } from '@p2pservice/protocol';
import { SqliteStore, type TrackerLimits, TrackerServer } from '@p2pservice/tracker';
import { pino } from 'pino';

/** A tracker in this process on a loopback port, over its own SQLite file; `close` stops both. */
export interface TestTracker {
  server: TrackerServer;
  store: SqliteStore;
  readonly address: Address;
  close(): Promise<void>;
}

export async function startTestTracker(dbFile: string, options: { limits?: Partial<TrackerLimits>; transport?: Transport; port?: number } = {}): Promise<TestTracker> {
  const store = await SqliteStore.open(dbFile);
  const server = await TrackerServer.start({
    host: '127.0.0.1',
    port: options.port ?? 0,
    store,
    logger: pino({ level: 'silent' }),
    limits: options.limits ?? {},
    ...(options.transport && { transport: options.transport }),
  });
  return {
    server,
    store,
    address: server.address,
    async close() {
      await server.close();
      await store.close();
    },
  };
}
