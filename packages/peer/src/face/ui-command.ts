import { resolve } from 'node:path';
import { isLoopbackAddress } from '@p2pservice/cli';
import type { PeerNode } from '../node.js';
import { shareSummary } from './report.js';
import { newUiToken } from './web/ui-auth.js';
import { UiServer } from './web/ui-server.js';
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
}

/**
 * `peer ui`: shares the folders given, serves the page, and prints its URL with a fresh access token
 * (like Jupyter). Runs until a signal; the caller closes the node.
 */
export async function startUi({ node, logger, shares, uiHost, uiPort, outDir, out, err }: UiCommandOptions): Promise<UiServer> {
  for (const dir of shares) out(shareSummary(await node.share(dir)));
  const token = newUiToken();
  const server = await UiServer.start({ node, host: uiHost, port: uiPort, token, outDir: resolve(outDir), logger });
  if (!isLoopbackAddress(uiHost)) {
    err(`peer: the page listens on ${uiHost}: anyone who can reach it and has the URL can download and share through this peer\n`);
  }
  const host = uiHost.includes(':') ? `[${uiHost}]` : uiHost === '0.0.0.0' ? '127.0.0.1' : uiHost;
  // After `#`: the browser keeps it in the page and never sends it to any server, this one included.
  out(`peer ui: open http://${host}:${server.address.port}/#token=${token}\n`);
  err('The address carries an access token: keep it to yourself. Press Ctrl-C to stop.\n');
  return server;
}
