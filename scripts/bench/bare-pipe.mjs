// The yardstick for transfers: createReadStream -> socket -> createWriteStream, between two processes.
// node bare-pipe.mjs serve FILE   (prints the port)   |   node bare-pipe.mjs fetch PORT OUT
import { createReadStream, createWriteStream } from 'node:fs';
import { connect, createServer } from 'node:net';
import { pipeline } from 'node:stream/promises';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'serve') {
  const server = createServer((socket) => {
    pipeline(createReadStream(a), socket).catch(() => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
} else {
  const socket = connect(Number(a), '127.0.0.1');
  await pipeline(socket, createWriteStream(b));
}
