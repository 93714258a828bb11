// Preloaded into a benchmarked process: prints its peak RSS on stderr as it exits.
process.on('exit', () => {
  process.stderr.write(`BENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
