import { isPostgresUrl } from '../store/open-store.js';
import type { TrackerStore } from '../store/store.js';
import type { TrackerMetrics } from './tracker-metrics.js';

/**
 * The same store, with every call timed into the metrics. The store's own calls to itself are not seen
 * (methods run bound to the store), so each timing is one operation the tracker asked for.
 */
export function timedStore(store: TrackerStore, metrics: TrackerMetrics): TrackerStore {
  const backend = isPostgresUrl(store.location) ? 'postgres' : 'sqlite';
  const parts: Record<string, object> = { membership: timed(store.membership, metrics, backend), bans: timed(store.bans, metrics, backend), members: timed(store.members, metrics, backend) };
  const rows = timed(store, metrics, backend);
  return new Proxy(rows, { get: (target, property) => (typeof property === 'string' && Object.hasOwn(parts, property) ? parts[property] : Reflect.get(target, property)) });
}

/** `target` with each of its methods timed under the method's name. */
function timed<T extends object>(target: T, metrics: TrackerMetrics, backend: 'postgres' | 'sqlite'): T {
  return new Proxy(target, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        const done = metrics.storeTimer(property, backend);
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          done();
          throw error;
        }
        if (result instanceof Promise) return result.finally(done);
        done();
        return result;
      };
    },
  });
}
