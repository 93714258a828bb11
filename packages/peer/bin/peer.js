#!/usr/bin/env -S node --max-semi-space-size=1
// The flag caps each half of V8's young generation at 1 MiB: the buffers of a download's 16 KiB TLS
// records are then freed after a megabyte of new objects instead of 16, which took a 1 GiB download's
// peak RSS from about 140 to 101 MiB at the same speed (BENCHMARKS.md). npm's Windows shims take the
// flag from this line too.
// Committed entry point, so npm can link the bin before `prepare` has built dist/; it runs the CLI's
// bundle (scripts/bundle-peer.mjs).
import '../dist/bundle/peer.js';
