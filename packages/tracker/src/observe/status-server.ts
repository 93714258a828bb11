import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatAddress, normalizeRemoteAddress, P2PError, SenderCounts, senderOf } from '@p2pservice/protocol';
import { flagOf, isLocalHostHeader, isLoopbackAddress } from '@p2pservice/cli';
import type { Logger } from 'pino';
import { TRACKER_SETTINGS } from '../settings/table.js';
import type { TrackerStore } from '../store/store.js';
import { renderStatusPage, STATUS_MEMBERS, type StatusFacts, type StatusJoin } from './status-page.js';
import type { TrackerMetrics } from './tracker-metrics.js';

/** How long /healthz waits for the database before it answers 503. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * HTTP connections the status port keeps at once, in all and from one sender (an address, or an IPv6
 * /64). One more is closed as it arrives: a flood of unfinished requests cannot use up the process's file
 * descriptors (which the protocol port needs), nor shut out another operator's browser or scraper.
 */
export const STATUS_MAX_CONNECTIONS = 64;
export const STATUS_MAX_CONNECTIONS_PER_ADDRESS = 8;

export interface StatusLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** What the status server reads from the running tracker. */
export interface StatusSource {
  store: TrackerStore;
  metrics: TrackerMetrics;
  version: string;
  network: 'open' | 'key' | 'members';
  /** How peers join, shown on the page. */
  join?: StatusJoin;
  connections(): number;
  serving(): boolean;
}

const SECURITY_HEADERS = {
  // No script, no outside asset, no framing: a page that only shows numbers.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The tracker's optional HTTP side: `/status` (a page for people), `/metrics` (Prometheus text format)
 * and `/healthz` (200 while serving with its database answering, else 503). Read-only. On a loopback
 * address it answers only requests addressed to an IP or `localhost`, so a web page cannot read it
 * through a DNS name rebound to 127.0.0.1.
 */
export class StatusServer {
  private constructor(
    private readonly server: Server,
    readonly address: { host: string; port: number },
  ) {}

  static async start(host: string, port: number, source: StatusSource, logger: Logger, limits: Partial<StatusLimits> = {}): Promise<StatusServer> {
    const loopbackOnly = isLoopbackAddress(host);
    const server = createServer((request, response) => {
      handle(request, response, source, loopbackOnly).catch((error: unknown) => {
        logger.warn({ err: error, path: request.url }, 'status request failed');
        if (!response.headersSent) send(response, 503, 'text/plain; charset=utf-8', `unavailable: ${(error as Error).message}\n`);
        else response.destroy();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    limitConnections(server, { maxConnections: STATUS_MAX_CONNECTIONS, maxConnectionsPerAddress: STATUS_MAX_CONNECTIONS_PER_ADDRESS, ...limits });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new P2PError(
            'LISTEN_FAILED',
            error.code === 'EADDRINUSE' ? `status port ${formatAddress({ host, port })} is already in use` : `cannot listen on ${formatAddress({ host, port })} for the status page: ${error.message}`,
            `pick another ${TRACKER_SETTINGS.httpPort.env} (or ${flagOf('httpPort', TRACKER_SETTINGS.httpPort).split(' ')[0]}), or leave it unset to turn the status page off`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    const bound = server.address();
    const address = { host, port: typeof bound === 'object' && bound ? bound.port : port };
    if (!loopbackOnly) logger.warn({ ...address }, 'the status page and metrics are reachable from other machines: they show the addresses of peers; put them behind a firewall or a proxy with access control');
    logger.info({ url: `http://${formatAddress(address)}/status` }, 'status page and metrics listening');
    return new StatusServer(server, address);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Closes a connection beyond the limits as it arrives, before it is read. */
function limitConnections(server: Server, { maxConnections, maxConnectionsPerAddress }: StatusLimits): void {
  const bySender = new SenderCounts();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    const sender = senderOf(normalizeRemoteAddress(socket.remoteAddress ?? ''));
    if (open >= maxConnections || bySender.of(sender) >= maxConnectionsPerAddress) return void socket.destroy();
    open++;
    bySender.add(sender);
    socket.once('close', () => {
      open--;
      bySender.remove(sender);
    });
  });
}

async function handle(request: IncomingMessage, response: ServerResponse, source: StatusSource, loopbackOnly: boolean): Promise<void> {
  if (loopbackOnly && !isLocalHostHeader(request.headers.host)) {
    return send(response, 421, 'text/plain; charset=utf-8', 'this tracker answers only requests addressed to 127.0.0.1, [::1] or localhost\n');
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
  }
  const path = new URL(request.url ?? '/', 'http://tracker').pathname;
  switch (path) {
    case '/':
      response.setHeader('location', '/status');
      return send(response, 302, 'text/plain; charset=utf-8', 'see /status\n');
    case '/healthz':
      return send(response, ...(await health(source)));
    case '/metrics':
      return send(response, 200, source.metrics.registry.contentType, await source.metrics.registry.metrics());
    case '/status': {
      const [counts, contents, members] = await Promise.all([source.store.counts(), source.store.countContents(), source.network === 'open' ? undefined : statusMembers(source.store)]);
      const page = renderStatusPage({
        version: source.version,
        serving: source.serving(),
        network: source.network,
        instance: source.store.membership.instance,
        database: source.store.location,
        startedAt: source.metrics.startedAt,
        now: new Date(),
        peers: counts.peers,
        files: counts.files,
        contents,
        connections: source.connections(),
        recent: source.metrics.activity.recent,
        ...(source.join && { join: source.join }),
        ...(members && { members }),
      });
      return send(response, 200, 'text/html; charset=utf-8', page);
    }
    default:
      return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /status, /metrics or /healthz\n');
  }
}

/** The member counts and the members seen most recently, with whether each is online now. */
async function statusMembers(store: TrackerStore): Promise<NonNullable<StatusFacts['members']>> {
  const [counts, recent, online] = await Promise.all([store.members.counts(), store.members.recent(STATUS_MEMBERS), store.members.onlineIdentities()]);
  return {
    ...counts,
    recent: recent.map((m) => ({ name: m.name, identity: m.identity, state: m.revokedAt !== null ? 'revoked' : online.has(m.identity) ? 'online' : 'offline', lastSeen: new Date(m.lastSeen) })),
  };
}

async function health(source: StatusSource): Promise<[number, string, string]> {
  if (!source.serving()) return [503, 'text/plain; charset=utf-8', 'unavailable: rejoining the network\n'];
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([source.store.counts(), late]);
    return [200, 'text/plain; charset=utf-8', 'ok\n'];
  } catch (error) {
    return [503, 'text/plain; charset=utf-8', `unavailable: ${(error as Error).message}\n`];
  } finally {
    clearTimeout(timer);
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
