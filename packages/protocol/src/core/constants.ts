/**
 * Protocol limits and defaults. Every limit is named here, documented in the spec
 * (packages/protocol/README.md#limits), and overridable where a component takes options.
 */

/** Version carried in every `hello`. Bumped on any incompatible change to framing or messages. */
export const PROTOCOL_VERSION = 2;

/** Largest request id (ids are chosen by the requester and echoed in the reply). */
export const MAX_REQUEST_ID = 2 ** 31 - 1;

/** Largest JSON frame body accepted, in bytes. Checked against the length prefix before allocating. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Length of the big-endian unsigned frame-length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Longest file name (relative path) on the wire, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;

/** Deepest path (number of `/`-separated segments) a shared name may have. */
export const MAX_NAME_DEPTH = 64;

/** Most files one peer may share. */
export const MAX_FILES_PER_SHARE = 100_000;

/** Most files in one `register` frame; larger shares are sent in chunks (`more: true`). */
export const MAX_FILES_PER_REGISTER = 2_000;

/** Most rows in one `list` page. */
export const MAX_LIST_PAGE = 1_000;

/** Most holders returned per content in a `who_has` answer. */
export const MAX_HOLDERS_PER_CONTENT = 64;

/** Most partial holders (feature `partial`) listed per content in a `who_has` or `who_has_content` answer, besides the complete ones. */
export const MAX_PARTIAL_HOLDERS_PER_CONTENT = 32;

/** Most searches one connection may watch at once (feature `watch`): a peer's whole wishlist. */
export const MAX_WATCHES_PER_CONNECTION = 32;

/** Most files one `watch_match` notice names; more matches of the same change set its `more`. */
export const MAX_WATCH_FILES_PER_NOTICE = 64;

/** Longest a holder keeps a `held` request that waits for more pieces (`after`) before answering anyway. */
export const HELD_WAIT_MS = 10_000;

/** Most distinct contents returned in a `who_has` answer. */
export const MAX_CONTENTS_PER_NAME = 64;

/** Longest search query, in characters (QUERY_TOO_LONG beyond). */
export const MAX_QUERY_CHARS = 256;

/** Most words and phrases in one search query, excluded ones included (TOO_MANY_TERMS beyond). */
export const MAX_QUERY_TERMS = 16;

/** Most extensions one search may ask for. */
export const MAX_SEARCH_EXTENSIONS = 16;

/** Longest extension a search may ask for, in characters. */
export const MAX_EXTENSION_CHARS = 32;

/** Rows in a page of search results unless asked otherwise (Napster showed a hundred). */
export const DEFAULT_SEARCH_RESULTS = 100;

/** Most rows in one page of search results. */
export const MAX_SEARCH_PAGE = 1_000;

/** Longest free text (agent names, error messages) on the wire, in characters. */
export const MAX_TEXT_CHARS = 1024;

/** Largest file size the protocol can describe: JSON numbers are exact up to 2^53 - 1. */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/** How long a side waits for the other's `hello`/`welcome` before giving up, in milliseconds. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/** TLS handshakes a server lets run at once; more connections wait in line for a slot (unread). */
export const MAX_PENDING_HANDSHAKES = 128;

/** TLS handshakes in progress from one sender (an IPv4 address, or an IPv6 /64) at once. */
export const MAX_PENDING_HANDSHAKES_PER_ADDRESS = 16;

/** Connections waiting for a handshake slot, in all; one more takes the last place of the longest line. */
export const MAX_WAITING_HANDSHAKES = 512;

/** Connections waiting for a handshake slot from one sender; one more is closed at once. */
export const MAX_WAITING_HANDSHAKES_PER_ADDRESS = 64;

/** How long a client waits to open a TCP connection, in milliseconds. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** How long a client waits for the answer to a request, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** A transfer that delivers no byte for this long is abandoned for another holder, in milliseconds. */
export const STALL_TIMEOUT_MS = 15_000;

/** How often a sharing peer pings the tracker when it has nothing else to say, in milliseconds. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** A peer silent for this long is dropped by the tracker, with all its files, in milliseconds. */
export const PEER_TIMEOUT_MS = 45_000;

/** Reconnection to a lost tracker: exponential backoff with full jitter between these bounds (ms). */
export const RECONNECT_BASE_DELAY_MS = 1_000;
export const RECONNECT_MAX_DELAY_MS = 30_000;

/**
 * A sender waits at most this long for a slow reader to take the bytes already queued on a connection
 * (at most one frame or one file chunk); then it gives up and closes the connection, in milliseconds.
 */
export const WRITE_TIMEOUT_MS = 30_000;

/** Fetches a holder keeps waiting for an upload slot; one more gets BUSY. */
export const MAX_UPLOAD_QUEUE = 32;

/** A queued fetch hears its position at least this often, so its wait never looks like a stall (ms). */
export const QUEUE_NOTICE_MS = 5_000;
