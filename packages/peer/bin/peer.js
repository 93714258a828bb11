#!/usr/bin/env node
// Committed entry point, so npm can link the bin before `prepare` has built dist/; it runs the CLI's
// bundle (scripts/bundle-peer.mjs).
import { setFlagsFromString } from 'node:v8';

// V8's young generation then grows to 4 MiB a half instead of 16: the buffers of a download's 16 KiB TLS
// records are freed sooner, which took a 1 GiB download's peak RSS from about 133 to 113 MiB at the same
// speed (BENCHMARKS.md). `--max-semi-space-size=1` on a `#!/usr/bin/env -S node` line gave 101 MiB, but
// the env of BusyBox (Alpine) and of the BSDs has no -S, and the peer would not start there.
setFlagsFromString('--semi-space-growth-factor=1');

await import('../dist/bundle/peer.js');
