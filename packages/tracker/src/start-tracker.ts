import { type Announcement, type Identity, loadOrCreateIdentity, TicketSigner, tlsTransport, uncheckedSecretLine } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { peerAddresses } from './addresses.js';
import { announceOnLan } from './lan-announcement.js';
import { joinLinks, svgQr } from './join-link.js';
import type { StatusJoin } from './observe/status-page.js';
import type { NetworkKind } from './server/member-gate.js';
import { isLoopbackAddress } from '@p2pservice/cli';
import { StatusServer } from './observe/status-server.js';
import { timedStore } from './observe/timed-store.js';
import { TrackerMetrics } from './observe/tracker-metrics.js';
import { DEFAULT_HTTP_HOST, DEFAULT_TRACKER_DB, DEFAULT_TRACKER_HOST, DEFAULT_TRACKER_PORT } from './settings/defaults.js';
import { limitsOf, networkKindOf, type TrackerSettings } from './settings/table.js';
import { TrackerServer } from './server/tracker-server.js';
import { TRACKER_VERSION } from './server/version.js';
import { openStore } from './store/open-store.js';
import type { TrackerStore } from './store/store.js';

/** What a tracker is started with: any of its settings (the rest are the defaults), minus the logging. */
export type StartTrackerSettings = Partial<Omit<TrackerSettings, 'logLevel' | 'logFormat'>>;

export interface StartTrackerOptions {
  logger: Logger;
  /** The tracker's identity; without it, the one kept in `configDir` (made there on first start). */
  identity?: Identity;
  /** Where the identity is kept (the CLI's is `$XDG_CONFIG_HOME/p2pservice`). */
  configDir?: string;
}

/** A running tracker: its listener, its status page if it has one, and one close for all of it. */
export interface RunningTracker {
  identity: Identity;
  server: TrackerServer;
  store: TrackerStore;
  status: StatusServer | undefined;
  /** The addresses peers connect with, `HOST:PORT#IDENTITY` (every address of a wildcard host). */
  addresses: string[];
  /**
   * Its announcement on the LAN, once made (undefined: announcing is off, or failed, as logged). Only
   * when `announce` is true: a tracker run as a library, in tests above all, stays off the LAN unless
   * asked (the CLI's TRACKER_ANNOUNCE is on by default).
   */
  announcement: Promise<Announcement | undefined>;
  close(): Promise<void>;
}

/**
 * Starts a tracker from its settings: opens the store, loads the identity, listens, and serves the
 * status page when `httpPort` is set. What was made is undone when a later step fails, so a failed
 * start leaves nothing open.
 */
export async function startTracker(settings: StartTrackerSettings, options: StartTrackerOptions): Promise<RunningTracker> {
  const { logger } = options;
  const undo: (() => Promise<void>)[] = [];
  const undoAll = async () => {
    for (const step of undo.reverse()) await step();
  };
  try {
    const store = await openStore(settings.db ?? DEFAULT_TRACKER_DB, {
      ...(settings.poolSize !== undefined && { poolSize: settings.poolSize }),
      onIdleError: (error) => logger.warn({ err: error }, 'an idle database connection failed; it is replaced when needed'),
    });
    undo.push(() => store.close());
    const identity = options.identity ?? (await loadIdentity(options.configDir, logger));
    // Only a watched tracker pays for the watching: timings of every request and database call.
    const metrics = settings.httpPort === undefined ? undefined : new TrackerMetrics(store);
    const host = settings.host ?? DEFAULT_TRACKER_HOST;
    const server = await TrackerServer.start({
      host,
      port: settings.port ?? DEFAULT_TRACKER_PORT,
      store: metrics ? timedStore(store, metrics) : store,
      ...(metrics && { observer: metrics }),
      logger,
      transport: tlsTransport({ identity }),
      ...(settings.networkKey && { networkKey: settings.networkKey }),
      network: networkKindOf(settings),
      ticketSigner: new TicketSigner(identity),
      limits: definedOnly(limitsOf(settings as TrackerSettings)),
    });
    undo.push(() => server.close());
    let status: StatusServer | undefined;
    if (metrics) {
      const probe = { connections: () => server.connections, serving: () => server.serving, watches: () => server.watches };
      metrics.watch(probe);
      const httpHost = settings.httpHost ?? DEFAULT_HTTP_HOST;
      const join = await statusJoin(peerAddresses(host, server.address.port, identity.id), server.network, isLoopbackAddress(httpHost) ? settings.networkKey : undefined, settings.announce === true);
      const source = { store, metrics, version: TRACKER_VERSION, network: server.network, ...(join && { join }), ...probe };
      status = await StatusServer.start(httpHost, settings.httpPort!, source, logger);
    }
    const announcement = settings.announce
      ? announceOnLan({ name: settings.name, id: identity.id, network: server.network, listenHost: host, port: server.address.port }, logger)
      : Promise.resolve(undefined);
    const close = async () => {
      // Goodbye first, so browsers drop the tracker before it stops answering.
      await (await announcement)?.stop();
      await status?.close();
      await server.close();
      await store.close();
    };
    return { identity, server, store, status, addresses: peerAddresses(host, server.address.port, identity.id), announcement, close };
  } catch (error) {
    await undoAll();
    throw error;
  }
}

/**
 * The join link the status page shows, drawn as a QR code. The network key goes in it only when the page
 * is on loopback: a page others can reach never shows a secret.
 */
async function statusJoin(addresses: string[], network: NetworkKind, networkKey: Buffer | undefined, announced: boolean): Promise<StatusJoin | undefined> {
  const [link] = joinLinks(addresses, network, networkKey);
  if (link === undefined) return undefined;
  return { link, qrSvg: await svgQr(link), holdsKey: link.includes('?key='), announced };
}

async function loadIdentity(configDir: string | undefined, logger: Logger): Promise<Identity> {
  if (configDir === undefined) throw new TypeError('startTracker needs an identity or a configDir to keep one in');
  const loaded = await loadOrCreateIdentity(configDir, 'tracker');
  if (loaded.created) logger.info({ identity: loaded.identity.id, file: loaded.file }, 'made a new identity for this tracker');
  if (loaded.unchecked) logger.warn(uncheckedSecretLine(loaded.file));
  return loaded.identity;
}

/** The entries that are set: a limit left undefined keeps the server's default. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
