/*
 * The peer's built-in defaults for what its settings can change, in one place: the library's options fall
 * back to these, and the settings table (table.ts) shows them as the defaults of the environment. The
 * protocol's own defaults (stall timeout, reconnect backoff, files per share) are the protocol package's.
 */

/** Uploads served at once; a further fetch waits in line, or gets BUSY when the line is full. */
export const DEFAULT_MAX_UPLOADS = 8;

/** Holders a download takes pieces from at once. */
export const DEFAULT_MAX_SOURCES = 4;

/** Full rescans of a shared folder catch what a watcher can miss. */
export const RESCAN_INTERVAL_MS = 5 * 60_000;

/** The port `peer ui` serves its page on. */
export const DEFAULT_UI_PORT = 7080;
