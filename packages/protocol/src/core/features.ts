/**
 * Optional parts of the protocol, negotiated in the handshake (packages/protocol/README.md#features).
 * The client's `hello` lists every feature it understands; the server's `welcome` answers with those of
 * them it offers too. Only features in the welcome may be used on that connection, so a later addition
 * (search, ranges, connect-back) is one more name here rather than a new protocol version.
 */
export const FEATURES = {
  queue: 'holder: a fetch that finds every upload slot busy waits in line, told its place in `queued` frames; without it the holder answers BUSY at once',
  who_has_content: 'tracker: answers `who_has_content`, the holders of a content under any name',
  who_has_sha256: 'tracker: a `who_has` may name the one content it wants by `sha256`, whatever else is shared under that name',
  search: 'tracker: answers `search`, a page of the files whose names match a query, best match first',
  banned: 'tracker: a banned client is refused with BANNED, whose message says until when; a client without it gets ACCESS_DENIED',
  members:
    "tracker: on a members network, a hello may redeem an invite; the welcome says network `members`, the member's name and a ticket, and `renew_ticket` gets a fresh one. holder: a hello (and later `ticket` frames) carry the client's ticket, which a holder on a members network requires (README#members)",
  quotas: "tracker: a member over one of its quotas (searches or connect requests a minute, bytes of names shared) is told QUOTA_EXCEEDED; a client without it gets RATE_LIMITED or TOO_MANY_FILES",
  connect_back:
    'tracker: lists a sharing peer whose port it cannot reach as firewalled instead of refusing it, and relays `connect_request` to such a peer as a `connect_notice`, after which the holder dials the downloader (README#connect-back)',
  partial:
    'tracker: a downloader may `offer` the content it is downloading, and `who_has` / `who_has_content` list such partial holders too, marked `partial`. holder: answers `held` with the pieces it has verified of a content, and serves fetches of those pieces of a content it is still downloading (README#partial-holders)',
  watch:
    'tracker: answers `watch` and `unwatch`, searches it keeps for the connection, and sends a `watch_match` when a share registered or changed on it has new files that match one (a wishlist without polling)',
  holder_files:
    "tracker: answers `holder_files`, a page of one holder's own shared files (named by its address and port, its identity or the start of it, or its member name), as Soulseek users browse a user",
} as const;

export type Feature = keyof typeof FEATURES;

export const ALL_FEATURES = Object.keys(FEATURES) as Feature[];

/** Most feature names one side may announce. */
export const MAX_FEATURES = 64;

export function isFeature(name: string): name is Feature {
  return Object.hasOwn(FEATURES, name);
}

/**
 * The features in force on a connection: those `offered` by this side that the other side also named.
 * Names this version does not know are ignored, never refused: that is what lets the protocol grow.
 */
export function agreedFeatures(offered: readonly Feature[], named: readonly string[]): Feature[] {
  const wanted = new Set(named);
  return offered.filter((feature) => wanted.has(feature));
}
