import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { formatAddress, ListCursor, MAX_HOLDER_TEXT_CHARS, P2PError, parseSearchQuery, SearchMatcher, Sha256Hex, terminalSafe } from '@p2pservice/protocol';
import { isLoopbackAddress } from '@p2pservice/cli';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PeerNode } from '../../node.js';
import { PageEvents, type Subscriber } from './page-events.js';
import type { NetworkChoice } from './network-choice.js';
import { mediaType, Players } from './players.js';
import { folderLevel, folderPrefix } from '../../download/folder.js';
import { checkUiRequest, UI_TOKEN_HEADER } from './ui-auth.js';
import { PACKAGE_ROOT } from '../../util/package-root.js';

/** Rows per page of the network's list in the page. */
export const UI_LIST_PAGE = 100;

const ASSETS = new URL('web/', PACKAGE_ROOT);
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const DownloadBody = z.strictObject({ name: z.string().min(1).max(4096), sha256: Sha256Hex.optional() });
const SearchText = z.string().max(4096);
const ShareBody = z.strictObject({ dir: z.string().min(1).max(4096) });
const IdParam = z.coerce.number().int().min(0);
const LinkQuery = z.object({ name: z.string().min(1).max(4096), sha256: Sha256Hex, size: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
const BrowsePath = z.string().max(4096);
/** How the page names a holder to browse: as a download named it (`holder_files` takes it as it is). */
const HolderText = z.string().min(1).max(MAX_HOLDER_TEXT_CHARS);
const PlayBody = z.strictObject({ name: z.string().min(1).max(4096), sha256: Sha256Hex, size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
const FolderBody = z.strictObject({ path: z.string().min(1).max(4096) });
const HoldersQuery = z.object({ name: z.string().min(1).max(4096), sha256: Sha256Hex });
const TrackerBody = z.union([z.strictObject({ link: z.string().min(1).max(4096) }), z.strictObject({ name: z.string().min(1).max(255) })]);

export interface UiServerOptions {
  node: PeerNode;
  host: string;
  port: number;
  token: string;
  /** Where downloads go. */
  outDir: string;
  logger: Logger;
  /** How a node started without a tracker gets one from the page (made here when not given). */
  choice?: (onChange: () => void) => NetworkChoice;
}

/**
 * `peer ui`'s web side: the page and its JSON API over one PeerNode (the same library the CLI and the
 * menu use), and the node's events pushed to the page as Server-Sent Events.
 */
export class UiServer {
  private constructor(
    private readonly server: ServerType,
    readonly address: { host: string; port: number },
    private readonly events: PageEvents,
    private readonly choice: NetworkChoice | undefined,
  ) {}

  static async start(options: UiServerOptions): Promise<UiServer> {
    const events = new PageEvents(options.node);
    const choice = options.choice?.(() => events.publish('lan', {}));
    const app = uiApp(options, events, choice);
    const server = await new Promise<ServerType>((resolve, reject) => {
      const started = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(started));
      started.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new P2PError(
            'LISTEN_FAILED',
            error.code === 'EADDRINUSE' ? `port ${formatAddress(options)} is already in use` : `cannot listen on ${formatAddress(options)}: ${error.message}`,
            'pick another with --ui-port (0 = any free port)',
          ),
        ),
      );
    }).catch(async (error: unknown) => {
      events.close();
      await choice?.close();
      throw error;
    });
    const port = (server.address() as AddressInfo).port;
    return new UiServer(server, { host: options.host, port }, events, choice);
  }

  async close(): Promise<void> {
    this.events.close();
    await this.choice?.close();
    return new Promise((resolve) => {
      if ('closeAllConnections' in this.server) this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** The contents this peer has saved in this run (its finished downloads), so the page offers them no Download. */
function savedContents(node: PeerNode): string[] {
  return [...new Set(node.downloads().flatMap((d) => (d.status === 'done' && d.result ? [d.result.sha256] : [])))];
}

function uiApp({ node, token, outDir, host, logger }: UiServerOptions, events: PageEvents, choice: NetworkChoice | undefined): Hono {
  const app = new Hono();
  const players = new Players(node, outDir);
  const loopbackOnly = isLoopbackAddress(host);
  const assets = {
    '/app.js': ['text/javascript; charset=utf-8', readFileSync(new URL('app.js', ASSETS), 'utf8')],
    '/app.css': ['text/css; charset=utf-8', readFileSync(new URL('app.css', ASSETS), 'utf8')],
    // The CLI's own words for sizes and durations (face/units.ts, compiled), so the page says them alike.
    '/units.js': ['text/javascript; charset=utf-8', readFileSync(new URL('../dist/face/units.js', ASSETS), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '\n')],
    '/': ['text/html; charset=utf-8', readFileSync(new URL('index.html', ASSETS), 'utf8')],
    '/favicon.svg': ['image/svg+xml', readFileSync(new URL('favicon.svg', ASSETS), 'utf8')],
  } as const;

  app.use(async (c, next) => {
    for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
    const refused = checkUiRequest(
      {
        method: c.req.method,
        path: c.req.path,
        host: c.req.header('host'),
        origin: c.req.header('origin'),
        fetchSite: c.req.header('sec-fetch-site'),
        headerToken: c.req.header(UI_TOKEN_HEADER),
      },
      token,
      loopbackOnly,
    );
    if (refused) return c.text(`${refused.reason}\n`, refused.status);
    await next();
  });

  for (const [path, [type, body]] of Object.entries(assets)) app.get(path, (c) => c.body(body, 200, { 'content-type': type }));

  app.get('/api/state', (c) =>
    c.json({ tracker: node.tracker, identity: node.identity ?? null, member: node.memberName ?? null, shares: node.shares(), downloads: node.downloads(), saved: savedContents(node), outDir, eventId: events.lastId }),
  );

  // A node started without a tracker: the trackers the LAN announces, and the person's pick.
  app.get('/api/lan', async (c) => c.json({ looking: choice?.looking ?? false, trackers: (await choice?.lan()) ?? [] }));

  app.post('/api/tracker', async (c) => {
    const body = TrackerBody.parse(await c.req.json());
    if (!choice) throw new P2PError('BAD_CONFIG', `this peer uses tracker ${node.tracker} already`, 'to use another network, restart it with --tracker');
    const info = 'link' in body ? await choice.useLink(body.link) : await choice.useName(body.name);
    return c.json({ tracker: node.tracker, info });
  });

  // The network's join link, with its QR code as modules for the page to draw (no script from elsewhere).
  app.get('/api/join', async (c) => {
    const link = node.joinLink();
    if (link === undefined) return c.json({ link: null });
    const { default: QRCode } = await import('qrcode');
    const { modules } = QRCode.create(link, { errorCorrectionLevel: 'L' });
    return c.json({ link, qr: { size: modules.size, bits: Array.from(modules.data, (bit) => (bit ? '1' : '0')).join('') } });
  });

  // The network as folders, one level at a time (the page's "Folders" view).
  // The network's folders, or (given `holder`) one holder's own, as `peer browse --holder` shows them.
  app.get('/api/browse', async (c) => {
    const path = BrowsePath.parse(c.req.query('path') ?? '');
    const asked = c.req.query('holder');
    const prefix = path.replace(/\/+$/, '') === '' ? '' : folderPrefix(path);
    if (asked === undefined) return c.json({ path: prefix, ...(await folderLevel(node.list(), prefix)) });
    let found: { holder: string; member?: string } | undefined;
    const level = await folderLevel(node.holderFiles(HolderText.parse(asked), (who) => (found = who)), prefix);
    return c.json({ path: prefix, holder: { ...found!, asked }, ...level });
  });

  // Who holds one content now (the rows' "Who has it"): each to browse, as the tracker lists them.
  app.get('/api/holders', async (c) => {
    const { name, sha256 } = HoldersQuery.parse(c.req.query());
    const content = await node.holdersOf(name, sha256);
    return c.json({ holders: (content?.holders ?? []).map((h) => ({ address: formatAddress(h), id: h.id, firewalled: h.firewalled === true, partial: h.partial === true })) });
  });

  // A whole folder: each of its files becomes a download of its own, followed like any other.
  app.post('/api/folder-downloads', async (c) => {
    const { path } = FolderBody.parse(await c.req.json());
    const prefix = folderPrefix(path);
    node.downloadFolder({ path: prefix, outDir }).then(
      (result) => logger.info({ folder: prefix, saved: result.saved.length, failed: result.failed.length }, 'folder downloaded from the page'),
      (error: unknown) => logger.info({ err: error, folder: prefix }, 'folder download from the page failed'),
    );
    return c.json({ folder: prefix }, 202);
  });

  // Play while it downloads: a download whose next pieces come first, read by the player at /media/KEY.
  app.post('/api/play', async (c) => {
    const { name, sha256, size } = PlayBody.parse(await c.req.json());
    return c.json({ url: `/media/${players.play(name, sha256, size)}` });
  });

  // What a <video> or <audio> asks for, with HTTP Range: only verified bytes, a few MiB at a time.
  app.get('/media/:key', async (c) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(c.req.header('range') ?? 'bytes=0-');
    if (!range) return c.text('only one range of bytes, bytes=START-END\n', 416);
    const slice = await players.slice(c.req.param('key'), Number(range[1]), range[2] ? Number(range[2]) : undefined);
    if (!slice) return c.text('not found\n', 404);
    return c.body(new Uint8Array(slice.bytes), 206, {
      'content-type': mediaType(c.req.param('key'), players),
      'content-range': `bytes ${slice.start}-${slice.start + slice.bytes.length - 1}/${slice.size}`,
      'accept-ranges': 'bytes',
    });
  });

  // A content link for a row of the list (the page's "Copy link").
  app.get('/api/link', async (c) => {
    const folder = c.req.query('folder');
    if (folder !== undefined) return c.json({ link: await node.folderLink(BrowsePath.parse(folder)) });
    const { name, sha256, size } = LinkQuery.parse(c.req.query());
    return c.json({ link: await node.contentLink({ name, sha256, size }) });
  });

  app.get('/api/files', async (c) => {
    const afterText = c.req.query('after');
    const after = afterText ? ListCursor.parse(JSON.parse(afterText)) : null;
    return c.json(await node.listPage(after, UI_LIST_PAGE));
  });

  app.get('/api/search', async (c) => {
    // The node checks the query language and names what is wrong (BAD_QUERY and its hint).
    const query = SearchText.parse(c.req.query('q') ?? '');
    const files = await node.search({ query }, UI_LIST_PAGE);
    // What the words matched in each name, as the CLI paints it: [start, end) spans of the name.
    const matcher = new SearchMatcher(parseSearchQuery(query));
    return c.json({ files: files.map((file) => ({ ...file, matched: matcher.highlights(file.name) })) });
  });

  app.post('/api/downloads', async (c) => {
    const body = DownloadBody.parse(await c.req.json());
    // The download runs on; the page follows it through the events.
    const { id, finished } = node.startDownload({ name: body.name, outDir, ...(body.sha256 && { sha256Prefix: body.sha256 }) });
    finished.catch((error: unknown) => logger.info({ err: error }, 'download from the page failed'));
    return c.json({ id }, 202);
  });

  app.post('/api/downloads/:id/cancel', (c) => c.json({ cancelled: node.cancel(IdParam.parse(c.req.param('id'))) }));

  app.post('/api/shares', async (c) => {
    const { dir } = ShareBody.parse(await c.req.json());
    return c.json(await node.share(dir), 201);
  });

  app.post('/api/shares/:id/stop', async (c) => {
    await node.stopShare(IdParam.parse(c.req.param('id')));
    return c.json({ stopped: true });
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const send: Subscriber = (id, event, data) => void stream.writeSSE({ id: String(id), event, data: JSON.stringify(data) });
      events.subscribers.add(send);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      events.subscribers.delete(send);
    }),
  );

  app.onError((error, c) => {
    if (error instanceof z.ZodError) return c.json({ error: `bad request: ${error.issues[0]?.message ?? 'invalid'}` }, 400);
    if (error instanceof SyntaxError) return c.json({ error: 'bad request: not JSON' }, 400);
    if (error instanceof P2PError) return c.json({ error: terminalSafe(error.message), code: error.code, hint: error.hint ?? null }, 422);
    logger.error({ err: error }, 'web UI request failed');
    return c.json({ error: 'unexpected error; see the log' }, 500);
  });
  return app;
}
