import { formatMs } from './duration.js';
import { P2PError } from './errors.js';

/** The two ends of a waiter: whoever has what it waits for settles it. */
export interface Settle<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * A wait for the next message with a deadline: `promise` settles through `settle`, or rejects with
 * TIMEOUT ("no message within …") after `timeoutMs` (none when undefined), after `onTimeout` has let go
 * of `settle`.
 */
export function waitForMessage<T>(timeoutMs: number | undefined, onTimeout: () => void): { promise: Promise<T>; settle: Settle<T> } {
  let settle!: Settle<T>;
  const promise = new Promise<T>((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            onTimeout();
            reject(new P2PError('TIMEOUT', `no message within ${formatMs(timeoutMs)}`));
          }, timeoutMs);
    settle = {
      resolve: (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    };
  });
  return { promise, settle };
}
