import { z } from 'zod';
import {
  MAX_CONTENTS_PER_NAME,
  MAX_FILES_PER_REGISTER,
  MAX_FILE_SIZE,
  MAX_HOLDERS_PER_CONTENT,
  MAX_PARTIAL_HOLDERS_PER_CONTENT,
  MAX_EXTENSION_CHARS,
  MAX_LIST_PAGE,
  MAX_REQUEST_ID,
  MAX_SEARCH_EXTENSIONS,
  MAX_SEARCH_PAGE,
  MAX_TEXT_CHARS,
  MAX_WATCH_FILES_PER_NOTICE,
} from '../core/constants.js';
import { WIRE_ERROR_CODE_LIST } from '../core/errors.js';
import { MAX_FEATURES } from '../core/features.js';
import { sharedNameProblem } from '../core/names.js';
import { MAX_PIECES, MIN_PIECE_BYTES } from '../pieces/merkle.js';

/*
 * Every message of the protocol, one discriminated union per direction. Objects are strict, so unknown
 * keys (including `__proto__` and `constructor`) are refused. Spec: packages/protocol/README.md#messages.
 */

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
export const Sha256Prefix = z.string().regex(/^[0-9a-f]{1,64}$/, 'must be 1 to 64 lowercase hex digits');
export const SharedName = z.string().superRefine((name, ctx) => {
  const problem = sharedNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: `file name ${problem}` });
});
export const FileSize = z.number().int().min(0).max(MAX_FILE_SIZE);
export const Port = z.number().int().min(1).max(65535);
export const RequestId = z.number().int().min(0).max(MAX_REQUEST_ID);
export const Text = z.string().max(MAX_TEXT_CHARS);
export const ProtocolVersion = z.number().int().min(0).max(65535);
/** Only the wire table: a local code (IO_ERROR, INTERRUPTED, …) in a frame is BAD_MESSAGE. */
export const WireErrorCodeSchema = z.enum(WIRE_ERROR_CODE_LIST, { error: 'is not a code of the wire error table' });
/** A feature name (packages/protocol/README.md#features); names this version does not know are allowed. */
export const FeatureName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be 1 to 32 lowercase letters, digits or _');
export const FeatureList = z.array(FeatureName).max(MAX_FEATURES);
/** An identity in its canonical form (identity/identity-id.ts): 8 groups of 7 base32 characters. */
export const IdentityText = z.string().regex(/^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}$/, 'must be an identity (8 groups of 7 base32 characters)');
/** A proof of the network key (membership.ts): 64 lowercase hex digits. */
/** Names one connect-back: 128 random bits, made by the tracker, unguessable to anyone it was not sent to. */
export const ConnectToken = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits');

export const MembershipProof = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** Names one invite (members.ts): 10 base32 characters, shown to the operator and in the join link. */
export const InviteId = z.string().regex(/^[A-Z2-7]{10}$/, 'must be 10 base32 characters');
/** The proof, in a hello, that the client holds the secret of invite `id`: bound to the TLS session like a key's. */
export const InviteProof = z.strictObject({ id: InviteId, proof: MembershipProof });
export type InviteProof = z.infer<typeof InviteProof>;

/**
 * What a members network's tracker signs for a member (ticket.ts): that `member` may fetch from the
 * network's holders until `until` (ms since the epoch). `signer` is the tracker's certificate (DER, base64),
 * whose identity holders check against the tracker they know; `signature` is ECDSA P-256 SHA-256 over
 * ticketBytes, in DER, base64.
 */
export const Ticket = z.strictObject({
  member: IdentityText,
  until: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  signer: z.string().max(4096).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  signature: z.string().max(256).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
});
export type Ticket = z.infer<typeof Ticket>;

/** Most tracker identities a welcome names as the signers of a network's tickets. */
export const MAX_TICKET_SIGNERS = 16;

/** A member's name on its network, as the operator or the invite gave it. */
export const MemberName = z.string().min(1).max(64);

/** A shared file: its name, size, SHA-256, and the root of its piece tree (README#pieces). */
export const FileEntry = z.strictObject({ name: SharedName, size: FileSize, sha256: Sha256Hex, root: Sha256Hex });
export type FileEntry = z.infer<typeof FileEntry>;

/** One row of the network-wide list: a distinct (name, sha256) and how many online peers hold it. */
export const ListEntry = z.strictObject({
  name: SharedName,
  size: FileSize,
  sha256: Sha256Hex,
  holders: z.number().int().min(1),
  /** How many of `holders` are firewalled (reached through connect-back); absent when none is. */
  firewalled: z.number().int().min(1).optional(),
});
export type ListEntry = z.infer<typeof ListEntry>;

/** Keyset cursor for paging the list: the last (name, sha256) of the previous page. */
export const ListCursor = z.strictObject({ name: SharedName, sha256: Sha256Hex });
export type ListCursor = z.infer<typeof ListCursor>;

/**
 * A peer that holds content, as the tracker knows it: the address seen on its socket, the port it serves
 * files on, and the identity it proved to the tracker. A downloader dials host:port and accepts only
 * that identity there.
 */
export const HolderRecord = z.strictObject({
  host: z.string().min(1).max(64),
  port: Port,
  id: IdentityText,
  /** The tracker could not reach host:port: download from it through connect-back (README#connect-back). */
  firewalled: z.literal(true).optional(),
});
export type HolderRecord = z.infer<typeof HolderRecord>;

/**
 * A holder of one content, with the piece-tree root it registered for it (README#pieces). `partial`: it is
 * downloading the content itself and serves the pieces it has verified (feature `partial`; ask it `held`).
 */
export const ContentHolder = z.strictObject({ ...HolderRecord.shape, root: Sha256Hex, partial: z.literal(true).optional() });
export type ContentHolder = z.infer<typeof ContentHolder>;

/** Most holders one answer lists for a content: the complete ones, then the partial ones (feature `partial`). */
const HolderList = z.array(ContentHolder).max(MAX_HOLDERS_PER_CONTENT + MAX_PARTIAL_HOLDERS_PER_CONTENT);

export const Content = z.strictObject({
  sha256: Sha256Hex,
  size: FileSize,
  holders: HolderList,
});
export type Content = z.infer<typeof Content>;

// ---- shared by every conversation ----

/**
 * The client's opening: its version, who it is, every feature it understands, and on a private network
 * the proof that it knows the network's key.
 */
export const Hello = z.strictObject({
  type: z.literal('hello'),
  protocol: ProtocolVersion,
  agent: Text,
  features: FeatureList,
  proof: MembershipProof.optional(),
  /** To a members network's tracker, from a client that is not a member yet: the invite it redeems. */
  invite: InviteProof.optional(),
});
export type Hello = z.infer<typeof Hello>;

/**
 * The server's answer: `features` are those of the hello's that it offers too, the ones in force on this
 * connection, and `network` whether only members get in. The tracker's welcome also says how often a
 * sharing peer must show it is alive (`heartbeatMs`) and after how much silence it is dropped
 * (`peerTimeoutMs`). Holders leave them out.
 */
export const Welcome = z.strictObject({
  type: z.literal('welcome'),
  protocol: ProtocolVersion,
  agent: Text,
  features: FeatureList,
  network: z.enum(['open', 'private', 'members']),
  /** On a members network (feature `members`): the name the client is a member under. */
  member: z.strictObject({ name: MemberName }).optional(),
  /** On a members network (feature `members`): a ticket for the network's holders. */
  ticket: Ticket.optional(),
  /** On a members network (feature `members`): the identities of the network's trackers, whose tickets its holders take. */
  signers: z.array(IdentityText).max(MAX_TICKET_SIGNERS).optional(),
  heartbeatMs: z.number().int().min(1).max(3_600_000).optional(),
  peerTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
});
export type Welcome = z.infer<typeof Welcome>;

export const ErrorMessage = z.strictObject({
  type: z.literal('error'),
  id: RequestId.nullable(),
  code: WireErrorCodeSchema,
  message: Text,
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

export const Bye = z.strictObject({ type: z.literal('bye') });
export type Bye = z.infer<typeof Bye>;

// ---- peer -> tracker ----

export const Register = z.strictObject({
  type: z.literal('register'),
  id: RequestId,
  listenPort: Port,
  files: z.array(FileEntry).max(MAX_FILES_PER_REGISTER),
  more: z.boolean(),
});
export type Register = z.infer<typeof Register>;

export const List = z.strictObject({
  type: z.literal('list'),
  id: RequestId,
  after: ListCursor.nullable(),
  limit: z.number().int().min(1).max(MAX_LIST_PAGE),
});
export type List = z.infer<typeof List>;

/** Who holds this name; with `sha256` (feature who_has_sha256), only that content of it. */
export const WhoHas = z.strictObject({ type: z.literal('who_has'), id: RequestId, name: SharedName, sha256: Sha256Hex.optional() });
export type WhoHas = z.infer<typeof WhoHas>;

/** Who holds this content, under whatever name: the holders a download can fail over to. */
export const WhoHasContent = z.strictObject({ type: z.literal('who_has_content'), id: RequestId, sha256: Sha256Hex });
export type WhoHasContent = z.infer<typeof WhoHasContent>;

/** Where the previous page of search results ended: its last row's place in the order. */
export const SearchCursor = z.strictObject({
  rank: z.union([z.literal(0), z.literal(1)]),
  holders: z.number().int().min(1),
  name: SharedName,
  sha256: Sha256Hex,
});
export type SearchCursor = z.infer<typeof SearchCursor>;

/**
 * A search: `query` in the query language (README#search), which the tracker parses, so that every
 * client gets the same language; the filters given apart are ANDed with those in the text.
 */
export const Search = z.strictObject({
  type: z.literal('search'),
  id: RequestId,
  query: z.string(),
  minSize: FileSize.optional(),
  maxSize: FileSize.optional(),
  extensions: z.array(z.string().min(1).max(MAX_EXTENSION_CHARS)).max(MAX_SEARCH_EXTENSIONS).optional(),
  after: SearchCursor.nullable(),
  limit: z.number().int().min(1).max(MAX_SEARCH_PAGE),
});
export type Search = z.infer<typeof Search>;

/** Changes to a registered share: names removed, and entries added or replaced (same name, new content). */
export const Update = z.strictObject({
  type: z.literal('update'),
  id: RequestId,
  added: z.array(FileEntry).max(MAX_FILES_PER_REGISTER),
  removed: z.array(SharedName).max(MAX_FILES_PER_REGISTER),
});
export type Update = z.infer<typeof Update>;

/** Heartbeat: any message shows the sender is alive; a ping is the message to send when idle. */
export const Ping = z.strictObject({ type: z.literal('ping'), id: RequestId });
export type Ping = z.infer<typeof Ping>;

/**
 * Asks the tracker to have a firewalled holder connect to us (README#connect-back): `holder` as it was
 * listed, `listenPort` where we wait for it, at the address the tracker sees this connection come from.
 */
/** The holder as it was listed (its `root` included or not: the tracker finds it by address, port and identity). */
export const ConnectRequest = z.strictObject({ type: z.literal('connect_request'), id: RequestId, holder: ContentHolder.partial({ root: true }), listenPort: Port });
export type ConnectRequest = z.infer<typeof ConnectRequest>;

/** A member asks for a fresh ticket for the network's holders (feature `members`), before its last one ends. */
export const RenewTicket = z.strictObject({ type: z.literal('renew_ticket'), id: RequestId });
export type RenewTicket = z.infer<typeof RenewTicket>;

/**
 * A downloader offers the content it is downloading (feature `partial`): it serves the pieces it has
 * verified on `listenPort`, and is listed as a partial holder of `sha256` until it withdraws the offer or
 * its connection ends. `root` is the piece tree it fills against.
 */
export const Offer = z.strictObject({ type: z.literal('offer'), id: RequestId, listenPort: Port, sha256: Sha256Hex, size: FileSize, root: Sha256Hex });
export type Offer = z.infer<typeof Offer>;

/** Ends an offer of this connection (the download finished or stopped); withdrawing one not offered is no error. */
export const Withdraw = z.strictObject({ type: z.literal('withdraw'), id: RequestId, sha256: Sha256Hex });
export type Withdraw = z.infer<typeof Withdraw>;

/** Most characters of the text naming a holder in `holder_files`: an identity (63) with room to spare. */
export const MAX_HOLDER_TEXT_CHARS = 128;

/**
 * One page of one holder's own files (feature holder_files): `holder` is its `HOST:PORT` as downloads name
 * it, its identity or its first 7 or more characters, or (on a members network) its member name.
 */
export const HolderFiles = List.omit({ type: true }).extend({ type: z.literal('holder_files'), holder: z.string().min(1).max(MAX_HOLDER_TEXT_CHARS) });
export type HolderFiles = z.infer<typeof HolderFiles>;

/**
 * A search the tracker keeps for this connection (feature watch): the query language and filters of
 * `search`. The tracker answers `watches` with the watch's number, then sends `watch_match` whenever a
 * share registered or changed on it has files that match.
 */
export const Watch = Search.omit({ type: true, after: true, limit: true }).extend({ type: z.literal('watch') });
export type Watch = z.infer<typeof Watch>;

/** The number of a watch, as the tracker gave it in `watches`. */
export const WatchNumber = z.number().int().min(1).max(MAX_REQUEST_ID);

/** Ends a watch of this connection; ending one it does not have is no error. */
export const Unwatch = z.strictObject({ type: z.literal('unwatch'), id: RequestId, watch: WatchNumber });
export type Unwatch = z.infer<typeof Unwatch>;

export const TrackerRequest = z.discriminatedUnion('type', [Hello, Register, Update, List, WhoHas, WhoHasContent, Search, HolderFiles, Watch, Unwatch, ConnectRequest, RenewTicket, Offer, Withdraw, Ping, Bye]);
export type TrackerRequest = z.infer<typeof TrackerRequest>;

// ---- tracker -> peer ----

export const Registered = z.strictObject({
  type: z.literal('registered'),
  id: RequestId,
  files: z.number().int().min(0),
  complete: z.boolean(),
  /** Present when the tracker could not reach the listen port: why. The share is listed as firewalled. */
  firewalled: Text.optional(),
});
export type Registered = z.infer<typeof Registered>;

export const ListPage = z.strictObject({
  type: z.literal('list_page'),
  id: RequestId,
  files: z.array(ListEntry).max(MAX_LIST_PAGE),
  next: ListCursor.nullable(),
});
export type ListPage = z.infer<typeof ListPage>;

/**
 * A page of one holder's files, in list order and shape (`holders` counts every holder of the content on
 * the network); `holder` is the identity found, `member` its member name on a members network.
 */
export const HolderPage = z.strictObject({
  type: z.literal('holder_page'),
  id: RequestId,
  holder: IdentityText,
  member: MemberName.optional(),
  files: z.array(ListEntry).max(MAX_LIST_PAGE),
  next: ListCursor.nullable(),
});
export type HolderPage = z.infer<typeof HolderPage>;

/** The answer to `watch` and `unwatch`: the watch concerned, and how many this connection has now. */
export const Watches = z.strictObject({ type: z.literal('watches'), id: RequestId, watch: WatchNumber, count: z.number().int().min(0) });
export type Watches = z.infer<typeof Watches>;

/**
 * Sent by the tracker, unasked (no `id`), to a connection watching a search: files that match it, from a
 * share just registered or changed. `more`: the change had more matches than one notice names (search
 * to see them all).
 */
export const WatchMatch = z.strictObject({
  type: z.literal('watch_match'),
  watch: WatchNumber,
  files: z.array(z.strictObject({ name: SharedName, size: FileSize, sha256: Sha256Hex })).min(1).max(MAX_WATCH_FILES_PER_NOTICE),
  more: z.boolean(),
});
export type WatchMatch = z.infer<typeof WatchMatch>;

/** A page of search results, best first, in the shape of list rows; `next` is null after the last. */
export const SearchPage = z.strictObject({
  type: z.literal('search_page'),
  id: RequestId,
  files: z.array(ListEntry).max(MAX_SEARCH_PAGE),
  next: SearchCursor.nullable(),
});
export type SearchPage = z.infer<typeof SearchPage>;

export const Holders = z.strictObject({
  type: z.literal('holders'),
  id: RequestId,
  name: SharedName,
  contents: z.array(Content).max(MAX_CONTENTS_PER_NAME),
});
export type Holders = z.infer<typeof Holders>;

export const ContentHolders = z.strictObject({
  type: z.literal('content_holders'),
  id: RequestId,
  sha256: Sha256Hex,
  holders: HolderList,
});
export type ContentHolders = z.infer<typeof ContentHolders>;

export const Updated = z.strictObject({ type: z.literal('updated'), id: RequestId, files: z.number().int().min(0) });
export type Updated = z.infer<typeof Updated>;

export const Pong = z.strictObject({ type: z.literal('pong'), id: RequestId });
export type Pong = z.infer<typeof Pong>;

/** The answer to renew_ticket. */
export const TicketIssued = z.strictObject({ type: z.literal('ticket'), id: RequestId, ticket: Ticket });
export type TicketIssued = z.infer<typeof TicketIssued>;

/** The tracker passed a connect request on; the holder will open its connection with `token`. */
export const ConnectRelayed = z.strictObject({ type: z.literal('connect_relayed'), id: RequestId, token: ConnectToken });
export type ConnectRelayed = z.infer<typeof ConnectRelayed>;

/**
 * Sent by the tracker, unasked, to a firewalled holder: dial host:port (the requester's address as the
 * tracker saw it) and open the connection with `connect_back` and `token`. `requester` is the identity
 * the requester proved to the tracker, when it had one: the holder accepts only that one there.
 */
export const ConnectNotice = z.strictObject({
  type: z.literal('connect_notice'),
  token: ConnectToken,
  host: z.string().min(1).max(64),
  port: Port,
  requester: IdentityText.optional(),
});
export type ConnectNotice = z.infer<typeof ConnectNotice>;

/**
 * The answer to `offer` and `withdraw`: how many contents this connection offers now, and, when the
 * tracker could not reach the listen port (and lists the offers as firewalled), why.
 */
export const Offers = z.strictObject({ type: z.literal('offers'), id: RequestId, count: z.number().int().min(0), firewalled: Text.optional() });
export type Offers = z.infer<typeof Offers>;

export const TrackerReply = z.discriminatedUnion('type', [Welcome, Registered, Updated, ListPage, HolderPage, Watches, WatchMatch, SearchPage, Holders, ContentHolders, ConnectRelayed, ConnectNotice, TicketIssued, Offers, Pong, ErrorMessage]);
export type TrackerReply = z.infer<typeof TrackerReply>;

// ---- holder -> downloader, on a connect-back connection ----

/** The first frame of a connection a holder opened because of a `connect_notice`; then it serves as usual. */
export const ConnectBack = z.strictObject({ type: z.literal('connect_back'), token: ConnectToken });
export type ConnectBack = z.infer<typeof ConnectBack>;

// ---- downloader -> holder ----

/** Asks for `length` bytes of content `sha256` from `offset` on. */
export const Fetch = z.strictObject({ type: z.literal('fetch'), id: RequestId, sha256: Sha256Hex, offset: FileSize, length: FileSize });
export type Fetch = z.infer<typeof Fetch>;

/** Asks for the piece layer of content `sha256` (README#pieces). */
export const Pieces = z.strictObject({ type: z.literal('pieces'), id: RequestId, sha256: Sha256Hex });
export type Pieces = z.infer<typeof Pieces>;

/**
 * The client's ticket for a holder on a members network (feature `members`): sent unasked right after the
 * welcome, and again with a fresher one before the one in force ends. It is not answered; a bad one ends
 * the connection, and a holder on a members network serves no request before a good one.
 */
export const TicketFrame = z.strictObject({ type: z.literal('ticket'), ticket: Ticket });
export type TicketFrame = z.infer<typeof TicketFrame>;

/**
 * Asks which pieces of content `sha256` the holder has verified (feature `partial`). With `after`, the
 * holder answers once it has more than `after` of them (or is complete), or after HELD_WAIT_MS, whichever
 * is first: a downloader that has taken every piece it knows of waits for the next ones this way.
 */
export const Held = z.strictObject({ type: z.literal('held'), id: RequestId, sha256: Sha256Hex, after: z.number().int().min(0).max(MAX_PIECES).optional() });
export type Held = z.infer<typeof Held>;

export const HolderRequest = z.discriminatedUnion('type', [Hello, Fetch, Pieces, Held, TicketFrame, Bye]);
export type HolderRequest = z.infer<typeof HolderRequest>;

// ---- holder -> downloader ----

/** Header of a file transfer: exactly `length` raw bytes follow it on the same socket. */
export const FileHeader = z.strictObject({
  type: z.literal('file'),
  id: RequestId,
  sha256: Sha256Hex,
  size: FileSize,
  offset: FileSize,
  length: FileSize,
});
export type FileHeader = z.infer<typeof FileHeader>;

/** A holder with every upload slot busy keeps the request in line; sent again when the position changes. */
export const Queued = z.strictObject({ type: z.literal('queued'), id: RequestId, position: z.number().int().min(1) });
export type Queued = z.infer<typeof Queued>;

/** The piece layer of a content: 64 hex digits per piece, in order, under the root they hash up to. */
export const PieceLayer = z.strictObject({
  type: z.literal('piece_layer'),
  id: RequestId,
  sha256: Sha256Hex,
  root: Sha256Hex,
  pieceSize: z.number().int().min(MIN_PIECE_BYTES).max(MAX_FILE_SIZE),
  hashes: z.string().max(MAX_PIECES * 64).regex(/^(?:[0-9a-f]{64})+$/, 'must be 64 lowercase hex digits per piece'),
});
export type PieceLayer = z.infer<typeof PieceLayer>;

/**
 * The pieces a holder has verified of a content: `count` of them, one bit each in `bitfield` (base64;
 * piece 0 in the lowest bit of byte 0), all of them when `complete`; `fresh` in the same form.
 */
export const HeldPieces = z.strictObject({
  type: z.literal('held_pieces'),
  id: RequestId,
  sha256: Sha256Hex,
  count: z.number().int().min(0).max(MAX_PIECES),
  complete: z.boolean(),
  bitfield: z.base64().max(Math.ceil(MAX_PIECES / 8 / 3) * 4),
  /**
   * From a complete holder: the pieces nobody has asked it for yet (in this round; a new round begins
   * once every piece was asked for). Downloaders that share the content ask it for those, so that its
   * upload goes to pieces the others do not have yet (BitTorrent's super-seeding).
   */
  fresh: z.base64().max(Math.ceil(MAX_PIECES / 8 / 3) * 4).optional(),
});
export type HeldPieces = z.infer<typeof HeldPieces>;

export const HolderReply = z.discriminatedUnion('type', [Welcome, FileHeader, PieceLayer, HeldPieces, Queued, ErrorMessage]);
export type HolderReply = z.infer<typeof HolderReply>;
