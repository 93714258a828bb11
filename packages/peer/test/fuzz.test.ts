import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeFrame, HolderSession } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileServer, indexFolder } from '../src/index.js';
import { feed, hello, wireInput } from '@p2pservice/test-support/fuzz';
import { removeDir, tempDir } from '@p2pservice/test-support/processes';
import { silentLogger, tlsAs } from './support.js';

/* The holder's file server over real sockets, fed generated input: it never crashes and keeps serving. */

let root: string;
let server: FileServer;
const content = Buffer.from('the only shared content\n');
const sha256 = createHash('sha256').update(content).digest('hex');

beforeAll(async () => {
  root = tempDir('p2p-holder-fuzz-');
  mkdirSync(join(root, 'share'));
  writeFileSync(join(root, 'share', 'file.txt'), content);
  writeFileSync(join(root, 'outside.txt'), 'never served');
  const index = await indexFolder(join(root, 'share'), { cacheDir: null });
  server = await FileServer.start({ host: '127.0.0.1', port: 0, index, logger: silentLogger, transport: tlsAs('holder') });
});
afterAll(async () => {
  await server.close();
  removeDir(root);
});

async function honestFetch(): Promise<Buffer> {
  const holder = await HolderSession.open({ host: '127.0.0.1', port: server.address.port });
  const { body } = await holder.fetch(sha256, 0, content.length);
  const bytes = Buffer.concat((await body.toArray()) as Buffer[]);
  await holder.close();
  return bytes;
}

describe('the holder under generated input', () => {
  it('never crashes, never sends anything but its shared content, and keeps serving', async () => {
    let inputs = 0;
    let runs = 0;
    const validFetch = encodeFrame({ type: 'fetch', id: 1, sha256, offset: 0, length: content.length });
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.oneof({ weight: 6, arbitrary: wireInput }, { weight: 1, arbitrary: fc.constant(validFetch) }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 4 }),
        async (sayHello, pieces, chunking) => {
          inputs += pieces.length;
          const socket = await tlsAs('fuzz').dial({ host: '127.0.0.1', port: server.address.port });
          const reply = await feed(socket, Buffer.concat(sayHello ? [hello, ...pieces] : pieces), chunking);
          expect(reply.includes('never served')).toBe(false);
          if (++runs % 1_000 === 0) expect((await honestFetch()).equals(content)).toBe(true);
        },
      ),
      { numRuns: 8_000 },
    );
    expect(inputs).toBeGreaterThan(20_000);
    expect((await honestFetch()).equals(content)).toBe(true);
    expect(server.activeUploads).toBe(0);
  }, 120_000);
});
