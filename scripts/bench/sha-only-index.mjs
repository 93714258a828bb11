// What first-time indexing cost before piece trees: every file of FOLDER read once and SHA-256'd, 16 at a
// time, as indexFolder did (same reads, same concurrency), in a process of its own. node sha-only-index.mjs FOLDER
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './harness.mjs';

const { hashFile } = await import(pathToFileURL(join(REPO, 'packages/peer/dist/index.js')).href);
const files = [];
async function walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await walk(join(dir, entry.name));
    else if (entry.isFile()) files.push(join(dir, entry.name));
  }
}
await walk(process.argv[2]);
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < files.length) await hashFile(files[next++]);
}));
