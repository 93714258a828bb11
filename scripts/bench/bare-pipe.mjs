// The yardstick for transfers: createReadStream -> socket -> createWriteStream, between two processes,
// in 1 MiB chunks: the strongest simple pipe (with the 64 KiB defaults any simple program beats it, and
// a ratio against it flatters us).
// node bare-pipe.mjs serve FILE   (prints the port)   |   node bare-pipe.mjs fetch PORT OUT
import { createReadStream, createWriteStream } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pipeline } from 'node:stream/promises';

const CHUNK = 1 << 20;

const [mode, a, b] = process.argv.slice(2);
if (mode === 'serve') {
  const server = createServer((socket) => {
    pipeline(createReadStream(a, { highWaterMark: CHUNK }), socket).catch(() => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
} else {
  const socket = connect(Number(a), '127.0.0.1');
  await pipeline(socket, createWriteStream(b, { highWaterMark: CHUNK }));
}
