import { resolve } from 'node:path';
import { errorLine, isLoopbackAddress } from '@p2pservice/cli';
import type { PeerNode } from '../node.js';
import { shareSummary } from './report.js';
import { newUiToken } from './web/ui-auth.js';
import { UiServer } from './web/ui-server.js';
import { NetworkChoice, type NetworkChoiceOptions } from './web/network-choice.js';
import type { Logger } from 'pino';

export interface UiCommandOptions {
  node: PeerNode;
  logger: Logger;
  shares: string[];
  uiHost: string;
  uiPort: number;
  outDir: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** For a node started without a tracker: where the page's choice is checked and kept. */
  choice: Omit<NetworkChoiceOptions, 'node' | 'onChange' | 'logger'>;
}

/**
 * `peer ui`: shares the folders given, serves the page, and prints its URL with a fresh access token
 * (like Jupyter). Runs until a signal; the caller closes the node.
 */
export async function startUi({ node, logger, shares, uiHost, uiPort, outDir, out, err, choice }: UiCommandOptions): Promise<UiServer> {
  const shareAll = async () => {
    for (const dir of shares) out(shareSummary(await node.share(dir)));
  };
  if (node.hasTracker) await shareAll();
  // Without a tracker yet, the folders are shared once the page has chosen one.
  else if (shares.length > 0) node.once('tracker-chosen', () => void shareAll().catch((error: unknown) => err(`${errorLine('peer', error)}\n`)));
  const token = newUiToken();
  const server = await UiServer.start({
    node,
    host: uiHost,
    port: uiPort,
    token,
    outDir: resolve(outDir),
    logger,
    choice: (onChange) => new NetworkChoice({ ...choice, node, onChange, logger }),
  });
  if (!isLoopbackAddress(uiHost)) {
    err(`peer: the page listens on ${uiHost}: anyone who can reach it and has the URL can download and share through this peer\n`);
  }
  const host = uiHost.includes(':') ? `[${uiHost}]` : uiHost === '0.0.0.0' ? '127.0.0.1' : uiHost;
  // After `#`: the browser keeps it in the page and never sends it to any server, this one included.
  out(`peer ui: open http://${host}:${server.address.port}/#token=${token}\n`);
  err('The address carries an access token: keep it to yourself. Press Ctrl-C to stop.\n');
  return server;
}
