import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { P2PError } from '../core/errors.js';
import { parseIdentity } from '../identity/identity-id.js';
import { quoted } from '../core/terminal.js';
import { sharedNameProblem } from '../core/names.js';
import { formatInvite, type Invite, parseInvite } from '../wire/invite.js';
import { parseNetworkKey } from '../wire/membership.js';

export interface Address {
  host: string;
  port: number;
}

/** Where to connect, and optionally who must answer there: the transport refuses anyone else. */
export interface Endpoint extends Address {
  /** The identity the other end must prove (see identity/identity-id.ts). */
  id?: string;
  /** An invite to redeem there, when this is a members network the client is not a member of yet. */
  invite?: Invite;
  /** The key of a private network (NETWORK_KEY), when a join link carries it. */
  key?: string;
  /** The one content a content link names (`?sha256=…&size=…&name=…`, and optionally `&root=…`). */
  content?: LinkedContent;
  /** The folder a folder link names (`?folder=PATH/&files=N&digest=HEX`). */
  folder?: LinkedFolder;
}

/** A folder as a link names it: its path, and what was under it when the link was made. */
export interface LinkedFolder {
  /** The folder's path on the network, ending in `/`. */
  path: string;
  /** How many files were under it. */
  files: number;
  /** sha256 of its manifest (folderDigest): tells whether the files under it are still those. */
  digest: string;
}

/** The digest of a folder's files: sha256 over their names and contents, sorted, one `NAME\0SHA256\n` each. */
export function folderDigest(files: readonly { name: string; sha256: string }[]): string {
  const lines = files.map((f) => `${f.name}\u0000${f.sha256}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** A content as a link names it: exactly these bytes (and piece tree), saved under `name`. */
export interface LinkedContent {
  sha256: string;
  size: number;
  name: string;
  /** The root of its piece tree (README#pieces): only holders that serve this tree are used. */
  root?: string;
}

/**
 * How a link begins: `p2p://HOST:PORT#IDENTITY`, then `?invite=ID.SECRET` or `?key=KEY` (a join link), or
 * `?sha256=HEX&size=N&name=NAME` (a content link).
 */
export const LINK_SCHEME = 'p2p://';


/** Parses "host:port" or "[v6]:port"; throws BAD_CONFIG with a hint. */
export function parseAddress(text: string, what = 'address'): Address {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new P2PError('BAD_CONFIG', `${what} ${quoted(text)} is not HOST:PORT`, 'e.g. 127.0.0.1:7070 or [::1]:7070');
  }
  return { host: match[1]!, port };
}

/**
 * Parses a tracker address as people pass it around: `HOST:PORT`, or `HOST:PORT#IDENTITY` to pin the
 * tracker's identity (the form `tracker start` prints). BAD_CONFIG with a hint otherwise.
 */
export function parseEndpoint(text: string, what = 'address'): Endpoint {
  if (text.toLowerCase().startsWith(LINK_SCHEME)) return parseLink(text, what);
  const hash = text.indexOf('#');
  const address = parseAddress(hash < 0 ? text : text.slice(0, hash), what);
  if (hash < 0) return address;
  return { ...address, id: parseIdentity(text.slice(hash + 1), `in ${what} ${quoted(text.slice(0, 200))}, the part after #`) };
}

/**
 * Parses a join link, `p2p://HOST:PORT#IDENTITY`, with `?invite=ID.SECRET` after the identity when it
 * carries an invite to a members network (README#members), or `?key=KEY` when it carries a private
 * network's key. The identity is required: a link is trusted because it names who must answer.
 */
export function parseLink(text: string, what = 'link'): Endpoint {
  const rest = text.slice(LINK_SCHEME.length);
  const hash = rest.indexOf('#');
  // Error messages never repeat a secret.
  const short = quoted(text.replace(/(invite|key)=[^&]*/g, '$1=…').slice(0, 200));
  if (hash < 0) throw new P2PError('BAD_CONFIG', `${what} ${short} names no tracker identity`, 'copy the whole link, with the part after #');
  const address = parseAddress(rest.slice(0, hash).replace(/\/$/, ''), what);
  const [identity, query = ''] = rest.slice(hash + 1).split('?', 2) as [string, string?];
  const endpoint: Endpoint = { ...address, id: parseIdentity(identity, `in ${what} ${short}, the part after #`) };
  const content: Record<string, string> = {};
  for (const pair of query.split('&').filter((part) => part !== '')) {
    const [key, value = ''] = pair.split('=', 2) as [string, string?];
    if (key === 'invite') endpoint.invite = parseInvite(decodeURIComponent(value), `the invite in ${what} ${short}`);
    else if (key === 'key') endpoint.key = networkKeyText(decodeURIComponent(value), `the key in ${what} ${short}`);
    else if (CONTENT_PARTS.has(key)) content[key] = safeDecode(value, `${what} ${short}`);
    else throw new P2PError('BAD_CONFIG', `${what} ${short} has an unknown part ${quoted(key.slice(0, 40))}`, 'copy the link as it was printed');
  }
  const folder = Object.fromEntries(Object.entries(content).filter(([key]) => FOLDER_PARTS.has(key)));
  const ofContent = Object.fromEntries(Object.entries(content).filter(([key]) => !FOLDER_PARTS.has(key)));
  if (Object.keys(folder).length > 0 && Object.keys(ofContent).length > 0) {
    throw new P2PError('BAD_CONFIG', `${what} ${short} names a folder and a file at once`, 'copy the link as it was printed');
  }
  if (Object.keys(ofContent).length > 0) endpoint.content = linkedContent(ofContent, `${what} ${short}`);
  if (Object.keys(folder).length > 0) endpoint.folder = linkedFolder(folder, `${what} ${short}`);
  return endpoint;
}

const FOLDER_PARTS = new Set(['folder', 'files', 'digest']);
const CONTENT_PARTS = new Set(['sha256', 'size', 'name', 'root', ...FOLDER_PARTS]);

/** The folder a link names: its path (a valid shared name, ending in /), its file count and digest. */
function linkedFolder(parts: Record<string, string>, what: string): LinkedFolder {
  const missing = ['folder', 'files', 'digest'].filter((key) => parts[key] === undefined);
  if (missing.length > 0) throw new P2PError('BAD_CONFIG', `${what} names a folder without its ${missing.join(' and ')}`, 'copy the whole link');
  const path = parts.folder!;
  const problem = path.endsWith('/') ? sharedNameProblem(path.slice(0, -1)) : 'does not end in /';
  if (problem) throw new P2PError('BAD_CONFIG', `${what} names a folder that cannot be one: it ${problem}`, 'copy the whole link');
  if (!/^[0-9a-f]{64}$/.test(parts.digest!)) throw new P2PError('BAD_CONFIG', `${what} has a digest that is not 64 lowercase hex digits`, 'copy the whole link');
  if (!/^[0-9]{1,9}$/.test(parts.files!)) throw new P2PError('BAD_CONFIG', `${what} has a file count that is not a whole number`, 'copy the whole link');
  return { path, files: Number(parts.files), digest: parts.digest! };
}

/** A folder link: the tracker (with its identity), the folder's path, and what was under it. */
export function formatFolderLink(tracker: Address & { id: string }, folder: LinkedFolder): string {
  return `${LINK_SCHEME}${formatAddress(tracker)}#${tracker.id}?folder=${encodeURIComponent(folder.path)}&files=${folder.files}&digest=${folder.digest}`;
}

function safeDecode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new P2PError('BAD_CONFIG', `${what} has a part that is not percent-encoded right`, 'copy the link as it was printed');
  }
}

/** The content a link names: sha256, size and name all there and well-formed; root well-formed if there. */
function linkedContent(parts: Record<string, string>, what: string): LinkedContent {
  const hex = /^[0-9a-f]{64}$/;
  const missing = ['sha256', 'size', 'name'].filter((key) => parts[key] === undefined);
  if (missing.length > 0) throw new P2PError('BAD_CONFIG', `${what} names a content without its ${missing.join(' and ')}`, 'copy the whole link');
  if (!hex.test(parts.sha256!)) throw new P2PError('BAD_CONFIG', `${what} has a sha256 that is not 64 lowercase hex digits`, 'copy the whole link');
  if (parts.root !== undefined && !hex.test(parts.root)) throw new P2PError('BAD_CONFIG', `${what} has a root that is not 64 lowercase hex digits`, 'copy the whole link');
  const size = /^[0-9]{1,16}$/.test(parts.size!) ? Number(parts.size) : NaN;
  if (!Number.isSafeInteger(size)) throw new P2PError('BAD_CONFIG', `${what} has a size that is not a whole number of bytes`, 'copy the whole link');
  const problem = sharedNameProblem(parts.name!);
  if (problem) throw new P2PError('BAD_CONFIG', `${what} names a file that cannot be one: it ${problem}`, 'copy the whole link');
  return { sha256: parts.sha256!, size, name: parts.name!, ...(parts.root !== undefined && { root: parts.root }) };
}

/** A content link: the tracker (with its identity) and exactly one content. Never a key or an invite. */
export function formatContentLink(tracker: Address & { id: string }, content: LinkedContent): string {
  const root = content.root === undefined ? '' : `&root=${content.root}`;
  return `${LINK_SCHEME}${formatAddress(tracker)}#${tracker.id}?sha256=${content.sha256}&size=${content.size}&name=${encodeURIComponent(content.name)}${root}`;
}

/** A join link for `endpoint` (which must name its identity), with its invite or key if it has one. */
export function formatLink(endpoint: Endpoint & { id: string }): string {
  const query = endpoint.invite ? `?invite=${formatInvite(endpoint.invite)}` : endpoint.key ? `?key=${endpoint.key}` : '';
  return `${LINK_SCHEME}${formatAddress(endpoint)}#${endpoint.id}${query}`;
}

/** A network key as a link carries it, checked (parseNetworkKey's rules) and kept as text. */
function networkKeyText(text: string, what: string): string {
  try {
    parseNetworkKey(text);
  } catch (error) {
    throw new P2PError('BAD_CONFIG', `${what} is not a network key`, 'copy the link as it was printed', { cause: error });
  }
  return text;
}

/**
 * Parses a comma-separated list of tracker addresses (the trackers of one network), each as
 * parseEndpoint takes it. An address named twice counts once.
 */
export function parseEndpointList(text: string, what = 'address'): Endpoint[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) {
    throw new P2PError('BAD_CONFIG', `${what} ${quoted(text.slice(0, 200))} has an empty address in its list`, 'separate addresses with single commas, e.g. 10.0.0.5:7070,10.0.0.6:7070');
  }
  const endpoints = new Map<string, Endpoint>();
  for (const part of parts) {
    const endpoint = parseEndpoint(part, what);
    endpoints.set(formatAddress(endpoint), endpoint);
  }
  return [...endpoints.values()];
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.id ? `${formatAddress(endpoint)}#${endpoint.id}` : formatAddress(endpoint);
}

export function formatAddress({ host, port }: Address): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The socket's view of a remote host, with IPv4-mapped IPv6 ("::ffff:10.0.0.2") turned back into IPv4. */
export function normalizeRemoteAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}
