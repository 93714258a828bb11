// One vitest project per package. vitest 4 no longer reads this file by itself: vitest.config.ts loads it.
export default [
  { test: { name: 'protocol', root: './packages/protocol', include: ['test/**/*.test.ts'] } },
  { test: { name: 'cli', root: './packages/cli', include: ['test/**/*.test.ts'] } },
  // The tracker's tests start trackers and move tens of thousands of rows: 5 s is too tight on a busy CI.
  { test: { name: 'tracker', root: './packages/tracker', include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 20_000 } },
  { test: { name: 'peer', root: './packages/peer', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
  // What the packages have in common: the layout of their sources.
  { test: { name: 'repo', root: '.', include: ['test/*.test.ts'] } },
];
