/** What the main thread asks a hashing thread (hash-worker.ts), and what it answers. */
export type HashRequest =
  /** The SHA-256 and piece tree of a whole file of `size` bytes, from one read. */
  | { id: number; op: 'file'; path: string; size: number }
  /** Starts a whole-file SHA-256 of the file at `path`, fed by the `range`s that follow, in order. */
  | { id: number; op: 'open'; path: string }
  | { id: number; op: 'range'; offset: number; length: number }
  | { id: number; op: 'digest' }
  | { id: number; op: 'close' };

export type HashReply =
  | { id: number; op: 'file'; sha256: string; root: string; layer: Uint8Array }
  | { id: number; op: 'digest'; sha256: string }
  | { id: number; op: 'error'; message: string; code?: string };
