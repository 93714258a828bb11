// A holder for the TLS benchmark: node tls-holder.mjs tls|tcp FOLDER — prints "ready PORT SHA256 SIZE ID ROOT".
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.mjs';

const [mode, folder] = process.argv.slice(2);
const { createIdentity, tcpTransport, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
const { FileServer, indexFolder } = await import(pathToFileURL(join(REPO, 'packages/peer/dist/index.js')).href);
const { pino } = await import(pathToFileURL(join(REPO, 'node_modules/pino/pino.js')).href);
const identity = createIdentity('bench holder');
const index = await indexFolder(folder, { cacheDir: null });
const transport = mode === 'tls' ? tlsTransport({ identity }) : tcpTransport;
const server = await FileServer.start({ host: '127.0.0.1', port: 0, index, logger: pino({ level: 'silent' }), transport });
const [file] = index.files;
console.log(`ready ${server.address.port} ${file.sha256} ${file.size} ${identity.id} ${file.root}`);
