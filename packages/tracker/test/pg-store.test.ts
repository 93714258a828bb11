import pg from 'pg';
import { P2PError } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_SCHEMA_VERSION, PgStore } from '../src/index.js';
import { startTestPostgres, type TestPostgres } from '@p2pservice/test-support/postgres';
import { peerId, sha } from './helpers.js';
import { describeStoreContract } from './store-contract.js';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
}, 60_000);
afterAll(() => postgres?.stop());

describeStoreContract({
  name: 'PostgreSQL',
  async fresh() {
    const database = await postgres.database();
    return { open: (instance) => PgStore.open(database.url, instance === undefined ? {} : { instance }), dispose: () => database.drop() };
  },
});

describe('the PostgreSQL store', () => {
  it('is made by one of several trackers opening an empty database at once, and used by all', async () => {
    const database = await postgres.database();
    const stores = await Promise.all(Array.from({ length: 4 }, (_, i) => PgStore.open(database.url, { instance: `t${i}` })));
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      expect((await client.query('SELECT version FROM p2p_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
      await client.end();
      for (const store of stores) await store.membership.join(60_000);
      await stores[0]!.putShare(undefined, { host: '10.0.0.1', port: 1, id: peerId }, [{ name: 'x', size: 1, sha256: sha('1'), root: 'e'.repeat(64) }]);
      expect(await stores[3]!.listPage(null, 10)).toHaveLength(1);
    } finally {
      for (const store of stores) await store.close();
      await database.drop();
    }
  });

  it('refuses a database from a newer tracker, naming the versions, and never shows the password', async () => {
    const database = await postgres.database();
    await (await PgStore.open(database.url)).close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('UPDATE p2p_schema SET version = $1', [PG_SCHEMA_VERSION + 1]);
    await client.end();
    const error = await PgStore.open(database.url).catch((e: unknown) => e as P2PError);
    expect(error).toBeInstanceOf(P2PError);
    expect((error as P2PError).message).toMatch(new RegExp(`^database postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/test_\\w+ has schema version ${PG_SCHEMA_VERSION + 1}, newer than this tracker's ${PG_SCHEMA_VERSION}$`));
    await database.drop();
  });
});
