import pg from 'pg';
import { P2PError } from '@p2pservice/protocol';

/*
 * The PostgreSQL connection pool of a store and the one way it runs transactions. Errors that mean the
 * database cannot be reached (refused, cut, shut down, out of connections, too slow to answer) become
 * P2PError UNAVAILABLE, which the tracker tells peers; anything else is a bug and stays as it is.
 */

export interface PgPoolOptions {
  /** Most connections this tracker opens to the database. */
  poolSize: number;
  /** How long to wait for a connection from the pool or the server before calling it unreachable. */
  connectTimeoutMs: number;
  /** Longest a statement may run on the server (a search has its own, shorter budget). */
  statementTimeoutMs: number;
}

/** int8 (sizes, ids, counts) as numbers: every one of ours stays below 2^53. */
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function openPool(url: string, options: PgPoolOptions, onIdleError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    // A server cut off without a word (a partition) never answers: give up a little after it would
    // have stopped the statement itself, so no caller waits forever.
    query_timeout: options.statementTimeoutMs + 1_000,
    // A server that stops answering (a cut cable, not a closed socket) is noticed by TCP keepalive.
    keepAlive: true,
    application_name: 'p2pservice-tracker',
    types,
  });
  // An idle connection that dies (the server restarted) must not crash the tracker: the pool drops it.
  pool.on('error', onIdleError);
  // A connection the server ends can emit a second error (ECONNRESET) after the pool has already dropped
  // it, with nobody listening, and an unheard 'error' ends the process (node-postgres #3202; seen here
  // when the database was stopped under a running tracker). Its errors reach the caller of its query, or
  // the pool's listener above while it is idle: this one only keeps the process alive.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Query parameters of a connection URL that carry a secret (the driver reads both). */
const SECRET_PARAMETERS = /password/i;

/** `url` without its passwords (in the user part, or as `?password=`), for logs and messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (SECRET_PARAMETERS.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    return 'postgres://(unreadable URL)';
  }
}

/** SQLSTATE classes that say the server is out of reach or out of service, not that our SQL is wrong. */
const UNAVAILABLE_CLASSES = ['08', '53', '57'];
/** Deadlock and serialization failure: the transaction is simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 4;

const sqlState = (error: unknown) => (error as { code?: unknown }).code;

/** What node-postgres says, without a code, when a connection cannot be had or was lost. */
const LOST_CONNECTION = /timeout exceeded when trying to connect|Query read timeout|Connection terminated|Client was closed|Client has encountered a connection error/;

export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error);
  // A statement timeout (57014) is in class 57 too: a database too busy to answer is out of service.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
  // Errors of the socket and of name lookup: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EAI_AGAIN… (not Node's
  // ERR_… codes, which are bugs of ours).
  if (typeof code === 'string' && /^(E[A-Z]+|EAI_[A-Z]+)$/.test(code)) return true;
  return error instanceof Error && LOST_CONNECTION.test(error.message);
}

/** `error`, as UNAVAILABLE if it says the database is out of reach. */
export function storeError(error: unknown, where: string): unknown {
  if (error instanceof P2PError) return error;
  // Rows of a peer or instance that another tracker swept (this one's lease lapsed): it no longer owns them.
  if (sqlState(error) === '23503') {
    return new P2PError('UNAVAILABLE', "this tracker's lease on the network lapsed and its peers were removed", 'connect again: the tracker is rejoining', { cause: error });
  }
  if (!isUnavailable(error)) return error;
  return new P2PError('UNAVAILABLE', `the tracker cannot reach its database ${where}: ${(error as Error).message}`, 'try again in a moment, or another tracker', { cause: error });
}

/**
 * Runs `work` in one transaction on a connection of the pool, again from the start after a deadlock or a
 * serialization failure. A connection that failed mid-transaction is thrown away, not reused.
 */
export async function inTransaction<T>(pool: pg.Pool, where: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient | undefined;
    try {
      client = await pool.connect();
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      if (client) {
        const rolledBack = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        client.release(rolledBack ? undefined : true);
      }
      if (RETRYABLE.has(sqlState(error) as string) && attempt < TRANSACTION_ATTEMPTS) continue;
      throw storeError(error, where);
    }
  }
}

/** Runs one statement outside a transaction, with the same error mapping. */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, where: string, config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(config);
  } catch (error) {
    throw storeError(error, where);
  }
}
