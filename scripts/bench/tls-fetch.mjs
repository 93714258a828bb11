// A download for the TLS benchmark, through the peer's own download path:
// node tls-fetch.mjs tls|tcp PORT SHA256 SIZE ID ROOT OUT
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.mjs';

const [mode, port, sha256, size, id, root, out] = process.argv.slice(2);
const { tcpTransport, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
const { downloadContent } = await import(pathToFileURL(join(REPO, 'packages/peer/dist/index.js')).href);
const { pino } = await import(pathToFileURL(join(REPO, 'node_modules/pino/pino.js')).href);
// Plain TCP cannot check an identity, so that holder record carries none.
const holder = mode === 'tls' ? { host: '127.0.0.1', port: Number(port), id, root } : { host: '127.0.0.1', port: Number(port), root };
await downloadContent(
  { tracker: { host: '127.0.0.1', port: 1 }, transport: mode === 'tls' ? tlsTransport() : tcpTransport, name: 'big.bin', outDir: out, logger: pino({ level: 'silent' }) },
  { sha256, size: Number(size), holders: [holder] },
);
