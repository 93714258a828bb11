// One vitest project per package. vitest 4 no longer reads this file by itself: vitest.config.ts loads it.
export default [
  { test: { name: 'protocol', root: './packages/protocol', include: ['test/**/*.test.ts'] } },
  { test: { name: 'tracker', root: './packages/tracker', include: ['test/**/*.test.ts'] } },
  { test: { name: 'peer', root: './packages/peer', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } },
];
