import { describe, expect, it } from 'vitest';
import { soak } from '../../../scripts/soak.mjs';

describe('a short chaos soak', () => {
  it('ends with zero corrupt files, zero stale rows and no leaked process', { timeout: 120_000 }, async () => {
    const report = await soak({ peers: 3, downloads: 300, seconds: 60 });
    expect(report.corrupt).toEqual([]);
    expect(report.stale).toEqual([]);
    expect(report.leaked).toEqual([]);
    expect(report.downloads).toBeGreaterThanOrEqual(100);
    expect(report.succeeded).toBeGreaterThan(0);
  });
});
