import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, startThrowawayPostgres } from '../../scripts/pg/throwaway-postgres.mjs';

/** A real PostgreSQL server of the tests' own (binaries from npm, data in a temp folder). */
export interface TestPostgres {
  /** The server's admin URL (database `postgres`). */
  url: string;
  port: number;
  /** A new, empty database on it, and how to drop it again. */
  database(): Promise<{ url: string; drop(): Promise<void> }>;
  /** Stops the server, keeping its data: the database is down until resume(). */
  halt(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestPostgres(options: { port?: number } = {}): Promise<TestPostgres> {
  const server = await startThrowawayPostgres(options);
  return {
    url: server.url,
    port: server.port,
    async database() {
      const name = `test_${randomBytes(6).toString('hex')}`;
      const url = await createDatabase(server.url, name);
      return { url, drop: () => dropDatabase(server.url, name) };
    },
    halt: () => server.halt(),
    resume: () => server.resume(),
    stop: () => server.stop(),
  };
}
