import { MAX_FILE_SIZE } from '../core/constants.js';

// Binary units, as the sizes we print (KiB, MiB...): "10M" means what a listing shows as "10 MiB".
const UNIT_BYTES: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
// A number, then a unit letter with an optional "b" or "ib" (10M, 10MB, 10MiB), or "b" alone, or nothing.
const SIZE = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|b)?$/i;

/** Bytes in a size a person typed: "700", "10M", "1.5 GiB", "2gb". Undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  const bytes = Math.round(number * UNIT_BYTES[(match[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) && bytes <= MAX_FILE_SIZE ? bytes : undefined;
}

export const SIZE_HINT = 'write a size as a number with an optional unit: 700, 10M, 1.5G (K, M, G, T: binary, as sizes are shown)';
