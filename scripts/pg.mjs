#!/usr/bin/env node
// `npm run pg`: a throwaway PostgreSQL server for trying several trackers on one machine. It prints the
// TRACKER_DB line to give them, runs until Ctrl-C, and then deletes everything it stored.
import { parseArgs } from 'node:util';
import { startThrowawayPostgres } from './pg/throwaway-postgres.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`pg: --port ${values.port} is not a port number (0 picks a free one)\n`);
  process.exit(2);
}
let server;
try {
  server = await startThrowawayPostgres({ port });
} catch (error) {
  process.stderr.write(`pg: could not start PostgreSQL: ${error.message.split('\n')[0]} (is --port free?)\n`);
  process.exit(1);
}
process.stderr.write(
  `A throwaway PostgreSQL is listening on 127.0.0.1:${server.port} (data in ${server.folder}, deleted when it stops).\n` +
    'Give each tracker this database, e.g. in its .env (chmod 600 .env: it holds a password); Ctrl-C stops it:\n',
);
process.stdout.write(`TRACKER_DB=${server.url}\n`);
const stop = () => server.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
