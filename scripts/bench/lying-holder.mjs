// A holder that lies on every piece it sends, for the swarm benchmark: it registers FILE under NAME with
// the right sha256 and piece tree, serves the right piece layer, and flips one byte in every piece of
// every range. node lying-holder.mjs TRACKER_PORT NAME FILE — prints "ready PORT", then on SIGTERM
// "sent BYTES".
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.mjs';

const [trackerPort, name, file] = process.argv.slice(2);
const p = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);
const identity = p.createIdentity('lying holder');
const transport = p.tlsTransport({ identity });

const handle = await open(file);
const { size } = await handle.stat();
const geometry = new p.PieceGeometry(size);
const whole = (await import('node:crypto')).createHash('sha256');
const tree = new p.TreeHasher(geometry);
const buffer = Buffer.allocUnsafe(1024 * 1024);
for (let at = 0; at < size; ) {
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
  whole.update(buffer.subarray(0, bytesRead));
  tree.update(buffer.subarray(0, bytesRead));
  at += bytesRead;
}
const sha256 = whole.digest('hex');
const { root, layer } = tree.digest();

let sent = 0;
const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (socket) => void serve(socket));
async function serve(socket) {
  const connection = new p.FramedConnection(socket, p.HolderRequest);
  try {
    await p.serverHandshake(connection, { agent: 'lying-holder', features: ['queue'] });
    for (;;) {
      const request = await connection.receive(60_000);
      if (request.type === 'bye') break;
      if (request.type === 'pieces') {
        await connection.send({ type: 'piece_layer', id: request.id, sha256, root: root.toString('hex'), pieceSize: geometry.pieceSize, hashes: p.layerToHex(layer) });
        continue;
      }
      await connection.send({ type: 'file', id: request.id, sha256, size, offset: request.offset, length: request.length });
      for (let at = request.offset; at < request.offset + request.length; ) {
        const chunk = Buffer.allocUnsafe(Math.min(256 * 1024, request.offset + request.length - at));
        await handle.read(chunk, 0, chunk.length, at);
        // Byte 100 of every piece is wrong.
        for (let piece = Math.max(0, Math.ceil((at - 100) / geometry.pieceSize)); geometry.offsetOf(piece) + 100 < at + chunk.length; piece++) {
          chunk[geometry.offsetOf(piece) + 100 - at] ^= 0xff;
        }
        await connection.write(chunk);
        sent += chunk.length;
        at += chunk.length;
      }
    }
  } catch {
    // the downloader hung up on us: that is the point
  } finally {
    connection.destroy();
  }
}

const session = await p.TrackerSession.open({ host: '127.0.0.1', port: Number(trackerPort) }, { transport });
await session.register(listener.address.port, [{ name, size, sha256, root: root.toString('hex') }]);
console.log(`ready ${listener.address.port}`);
process.on('SIGTERM', () => {
  console.log(`sent ${sent}`);
  process.exit(0);
});
setInterval(() => session.ping().catch(() => undefined), 10_000);
