import { afterAll, beforeAll } from 'vitest';
import { PgStore } from '../src/index.js';
import { startTestPostgres, type TestPostgres } from '../../../test/support/postgres.js';
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
