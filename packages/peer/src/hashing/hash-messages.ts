import type { FileIdentity } from '../util/file-checks.js';

/** What the main thread asks a hashing thread (hash-worker.ts), and what it answers. */
export type HashRequest =
  /**
   * The SHA-256 and piece tree of a whole file of `size` bytes, from one read; or only one of the two
   * (`only`), when two threads share a large file's hashing.
   */
  | { id: number; op: 'file'; path: string; size: number; only?: 'sha256' | 'tree' }
  /**
   * Starts a download's hashing session on the part at `path`: the whole-file SHA-256, fed in order, and
   * (with `size` and `layer`, the piece layer's hashes end to end) the checking of pieces that arrive.
   */
  | { id: number; op: 'open'; path: string; size?: number; layer?: Uint8Array }
  /**
   * Checks the whole pieces in `buffer[byteOffset, byteOffset + length)`, which are the content's bytes
   * from `position` (a piece boundary) on. Pieces that check and follow those already in the whole-file
   * hash go into it from here, so they are never read back.
   */
  | { id: number; op: 'pieces'; seq: number; buffer: SharedArrayBuffer; byteOffset: number; length: number; position: number }
  /** Feeds [offset, offset + length) of the part into the whole-file hash, read from disk (what it has not had yet). */
  | { id: number; op: 'range'; offset: number; length: number }
  | { id: number; op: 'digest' }
  | { id: number; op: 'close' }
  /**
   * A small file of a share, described whole on the thread: its real path must lie in `root`, and its
   * identity must be `identity` (the main thread's lstat) from its opening to the end of its reading.
   */
  | { id: number; op: 'describe'; path: string; root: string; identity: FileIdentity };

export type HashReply =
  | { id: number; op: 'file'; sha256: string; root: string; layer: Uint8Array }
  /** One verdict per piece of a `pieces` request, in order; or why there is none. */
  | { id: number; op: 'pieces'; seq: number; ok: boolean[]; error?: string }
  | { id: number; op: 'digest'; sha256: string }
  /** A described file's hashes, or why it cannot be shared as it is (`outside` its root, or it `changed`). */
  | { id: number; op: 'described'; sha256: string; root: string; layer: Uint8Array; privateKey: boolean }
  | { id: number; op: 'described'; refused: 'outside' | 'changed' }
  | { id: number; op: 'error'; message: string; code?: string };
