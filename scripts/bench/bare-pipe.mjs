// The yardsticks for transfers: createReadStream -> socket -> createWriteStream, between two processes,
// in 1 MiB chunks: the strongest simple pipe (with the 64 KiB defaults any simple program beats it, and
// a ratio against it flatters us). With `tls`, the same pipe over TLS 1.3 (Node's defaults otherwise),
// which is what every transfer of ours pays for too.
// With `fsync` the fetch also makes the file durable before it exits, as `peer get` does before it renames
// the part into place: what the disk itself costs.
// node bare-pipe.mjs serve FILE [tls CERT KEY]   (prints the port)   |   node bare-pipe.mjs fetch PORT OUT [tls] [fsync]
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pipeline } from 'node:stream/promises';
import * as tls from 'node:tls';

const CHUNK = 1 << 20;

const [mode, ...args] = process.argv.slice(2);
if (mode === 'serve') {
  const [file, secure, cert, key] = args;
  const send = (socket) => pipeline(createReadStream(file, { highWaterMark: CHUNK }), socket).catch(() => socket.destroy());
  const server = secure === 'tls' ? tls.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.3' }, send) : createServer(send);
  server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
} else {
  const [port, out, ...flags] = args;
  const secure = flags.includes('tls') ? 'tls' : undefined;
  // The bench's own self-signed certificate: nothing to check it against, and nothing secret crosses.
  const socket =
    secure === 'tls' ? tls.connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3' }) : connect(Number(port), '127.0.0.1');
  await pipeline(socket, createWriteStream(out, { highWaterMark: CHUNK }));
  if (flags.includes('fsync')) {
    const fd = openSync(out, 'r+');
    fsyncSync(fd);
    closeSync(fd);
  }
}
