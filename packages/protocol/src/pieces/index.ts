// The piece trees alone (node:crypto and nothing else), for threads that only hash: the package's main
// entry brings the schemas (zod) too, about 25 MB more in each thread that loads it.
export * from './merkle.js';
export * from './piece-hasher.js';
