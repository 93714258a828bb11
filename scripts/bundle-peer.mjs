#!/usr/bin/env node
// Bundles the peer's CLI (after `tsc -b`) into one file, packages/peer/dist/bundle/peer.js, which its bin
// runs. One module instead of about 200 (64 of them zod's locales, which every zod entry point loads)
// starts in 60 % of the time and 14 MiB less memory (BENCHMARKS.md).
// The library (`@p2pservice/peer`) and the hashing thread's script stay as tsc builds them.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const versionOf = (pkg) => JSON.parse(readFileSync(join(REPO, 'packages', pkg, 'package.json'), 'utf8')).version;

// The protocol package reads its version from its own package.json beside its build; inside the bundle
// that file is not where the code runs from, so its version is written in.
const protocolVersion = {
  name: 'protocol-version',
  setup(b) {
    b.onLoad({ filter: /[\\/]protocol[\\/]dist[\\/]core[\\/]version\.js$/ }, () => ({
      contents: `export const PROTOCOL_PACKAGE_VERSION = ${JSON.stringify(versionOf('protocol'))};`,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [join(REPO, 'packages/peer/dist/face/cli.js')],
  outfile: join(REPO, 'packages/peer/dist/bundle/peer.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (commander, pino) call require() for Node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [protocolVersion],
  logLevel: 'warning',
});
