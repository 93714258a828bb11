import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, it, vi } from 'vitest';
import { SqliteStore } from '../src/index.js';
import { InstanceLease } from '../src/server/instance-lease.js';

/** A logger whose lines are kept, and a wait for the first line that matches. */
function keptLog() {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      for (const waiter of [...waiters]) if (waiter.pattern.test(String(chunk))) waiter.resolve();
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  const waitFor = (pattern: RegExp) => new Promise<void>((resolve) => (lines.some((line) => pattern.test(line)) ? resolve() : waiters.push({ pattern, resolve })));
  return { logger, waitFor };
}

it("keeps serving through failed renewals, and stops once the database stayed unreachable for most of the lease by this machine's clock", async () => {
  // The renewals run on fake timers; the lease's deadline is kept on the clock it is given.
  vi.useFakeTimers({ toFake: ['setInterval', 'setTimeout', 'clearInterval', 'clearTimeout'] });
  const store = await SqliteStore.open(':memory:');
  const log = keptLog();
  let clock = 1_000_000;
  let lost = false;
  const lease = new InstanceLease(store, 3_000, log.logger, () => (lost = true), () => clock);
  try {
    await lease.start();
    // The database goes away: every renewal from now on fails.
    await store.close();
    await vi.advanceTimersByTimeAsync(lease.renewEveryMs);
    await log.waitFor(/the database is unreachable/);
    // However many renewals fail, the lease holds while this machine's clock says it does.
    await vi.advanceTimersByTimeAsync(5 * lease.renewEveryMs);
    expect([lease.serving, lost]).toEqual([true, false]);
    // Most of the lease goes by: the next renewal can no longer be sure it holds.
    clock += 2_500;
    await vi.advanceTimersByTimeAsync(lease.renewEveryMs);
    await log.waitFor(/this tracker stops serving: the database stayed unreachable for most of its lease/);
    expect([lease.serving, lost]).toEqual([false, true]);
  } finally {
    await lease.stop();
    vi.useRealTimers();
  }
});

it('rejoins at once when its lease was found lapsed (the whole machine paused), not a renewal period later', async () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'setTimeout', 'clearInterval', 'clearTimeout'] });
  const store = await SqliteStore.open(':memory:');
  const log = keptLog();
  let lost = false;
  const lease = new InstanceLease(store, 3_000, log.logger, () => (lost = true));
  // The next renewal finds the lease gone, as after a pause longer than the lease that others swept.
  const { membership } = store;
  const renewLease = membership.renewLease.bind(membership);
  let sweptMeanwhile = false;
  membership.renewLease = async (leaseMs) => (sweptMeanwhile ? ((sweptMeanwhile = false), false) : renewLease(leaseMs));
  try {
    await lease.start();
    sweptMeanwhile = true;
    await vi.advanceTimersByTimeAsync(lease.renewEveryMs);
    await log.waitFor(/this tracker stops serving: its lease had lapsed/);
    expect(lost).toBe(true);
    // No timer moves from here on: only the rejoin that losing starts can bring it back.
    await log.waitFor(/this tracker rejoined the network and serves again/);
    expect(lease.serving).toBe(true);
  } finally {
    await lease.stop();
    await store.close();
    vi.useRealTimers();
  }
});
