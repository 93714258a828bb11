// A peer with one big share, for the hold benchmark (hold.mjs), in a process of its own: registers it,
// registers it again with half its files changed, and leaves, printing how long each took as JSON lines.
// Arguments: PORT FILES LONG(0|1)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, peerShares } from './catalog.mjs';
import { REPO } from './harness.mjs';

const [port, count, long] = process.argv.slice(2).map(Number);
const { createIdentity, TrackerSession, tlsTransport } = await import(pathToFileURL(join(REPO, 'packages/protocol/dist/index.js')).href);

/** `name` under a deep folder of long words, about 1 000 bytes in all (the protocol's limit is 1 024). */
function longName(n, name) {
  const words = ['Archive', 'Backup of the old family computer', 'Documents and Settings', 'My Music Collection', 'Ripped from the original CDs', 'Sorted by decade and then by artist', 'Do not delete'];
  const parts = [];
  for (let i = 0; ; i++) {
    const next = `${words[(n + i) % words.length]} ${n % 100} ${i}`;
    if (Buffer.byteLength([...parts, next, name].join('/')) > 1000) break;
    parts.push(next);
  }
  return [...parts, name].join('/');
}

const [files] = peerShares({ albums: catalog({ artists: 3_000 }), peers: 1, perPeer: count, seed: 99 });
const share = long ? files.map((f, i) => ({ ...f, name: longName(i % 100, f.name) })) : files;
const changed = share.map((f, i) => (i % 2 ? { ...f, sha256: `${f.sha256.slice(0, 63)}${f.sha256[63] === '0' ? '1' : '0'}` } : f));
const nameBytes = Math.round(share.reduce((n, f) => n + Buffer.byteLength(f.name), 0) / share.length);
// Each phase, its seconds, and a name of the share (to tell when it has left the list).
const say = (phase, started) => process.stdout.write(`${JSON.stringify({ phase, seconds: (performance.now() - started) / 1000, nameBytes, sample: share.at(-1).name })}\n`);

const session = await TrackerSession.open({ host: '127.0.0.1', port }, { transport: tlsTransport({ identity: createIdentity('big sharer') }) });
let started = performance.now();
await session.register(9, share);
say('registered', started);
started = performance.now();
await session.register(9, changed);
say('replaced', started);
await session.close();
say('closed', performance.now());
