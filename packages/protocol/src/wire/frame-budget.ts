import { P2PError } from '../core/errors.js';
import type { FileEntry } from './messages.js';

/*
 * Every frame must fit MAX_FRAME_BYTES, and a message whose size grows with data (a share, a page of the
 * list) cannot be sized by counting items: one legal name is up to 1024 bytes, and JSON escaping can
 * double it (`"` becomes `\"`). These helpers size such messages by their encoded bytes instead.
 */

/** UTF-8 bytes that `value` takes in a frame body, as `encodeFrame` writes it. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

// Printable ASCII but `"` and `\`: JSON writes such a string as it is, between two quotes.
const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** UTF-8 bytes of `text` as a JSON string, quotes included, without building the JSON when not needed. */
export function jsonStringBytes(text: string): number {
  return PLAIN_JSON_STRING.test(text) ? text.length + 2 : jsonBytes(text);
}

const FILE_ENTRY_OVERHEAD = jsonBytes({ name: '', size: 0, sha256: '0'.repeat(64), root: '0'.repeat(64) }) - jsonStringBytes('') - '0'.length;

/**
 * `jsonBytes(file)` for a file entry, computed: sizing a share of 100 000 files by stringifying each
 * entry would add a tenth of a second to every registration.
 */
export function fileEntryBytes(file: FileEntry): number {
  return FILE_ENTRY_OVERHEAD + jsonStringBytes(file.name) + String(file.size).length;
}

/** The bytes left for the elements of arrays inside one frame. */
export class FrameBudget {
  private count = 0;

  constructor(private remaining: number) {}

  /** Takes room for one more array element of `bytes` (and its comma) if it fits. */
  take(bytes: number): boolean {
    const cost = bytes + (this.count > 0 ? 1 : 0);
    if (cost > this.remaining) return false;
    this.remaining -= cost;
    this.count++;
    return true;
  }

  /** Would `bytes` more (not an array element: a cursor, say) still fit? */
  fits(bytes: number): boolean {
    return bytes <= this.remaining;
  }
}

/**
 * Consecutive runs of `items`, each at most `maxItems` long and, as the elements of one JSON array, at
 * most `maxBytes` (each item costing `sizeOf(item)`). Always yields at least one (possibly empty) run.
 */
export function* chunksWithin<T>(items: readonly T[], maxItems: number, maxBytes: number, sizeOf: (item: T) => number = jsonBytes): Generator<T[]> {
  let at = 0;
  do {
    const budget = new FrameBudget(maxBytes);
    const start = at;
    while (at < items.length && at - start < maxItems && budget.take(sizeOf(items[at]!))) at++;
    if (at === start && at < items.length) {
      throw new P2PError('FRAME_TOO_LARGE', `one entry of ${sizeOf(items[at]!)} bytes does not fit a frame of ${maxBytes}`);
    }
    yield items.slice(start, at);
  } while (at < items.length);
}
