import { type FileEntry, foldText, MAX_WATCH_FILES_PER_NOTICE, MAX_WATCHES_PER_CONNECTION, P2PError, type SearchQuery, SearchMatcher, SenderCounts, type WatchMatch, wordStarts } from '@p2pservice/protocol';

/** The bounds of the watches (TrackerLimits): per sender, per identity and in all; per connection is the protocol's. */
export interface WatchLimits {
  maxWatchesPerAddress: number;
  maxWatchesPerIdentity: number;
  maxWatches: number;
}

/** Names looked at between two turns of the event loop while matching a change against the watches. */
export const WATCH_MATCH_SLICE = 256;

/** One kept search of one connection. */
interface WatchEntry {
  number: number;
  watcher: Watcher;
  matcher: SearchMatcher;
  keys: string[];
  /** A notice could not be sent (the watcher's connection was full): the next one says `more`. */
  missed: boolean;
}

/** A connection that watches: who it counts against, its watches, and how a notice reaches it. */
interface Watcher {
  sender: string;
  identity: string;
  watches: Map<number, WatchEntry>;
  next: number;
  /** Sends a notice; false when the connection has no room for it now (it is not reading). */
  notify: (notice: WatchMatch) => boolean;
}

/**
 * The searches connections keep on this tracker (feature watch), and the matching of every file a share
 * registers or adds against them. They live in memory, as long as their connection.
 *
 * Each watch is filed under one key that any name it matches must have: a three-character piece of its
 * longest word (words of three or more match inside names), the word itself at a word start (shorter
 * words), or its extensions (a query of extensions only). A file is matched only against the watches
 * filed under the keys of its own name, then decided by the search's own matcher: a change costs the
 * pieces of its names, not the number of watches.
 */
export class SearchWatches {
  private readonly byKey = new Map<string, Set<WatchEntry>>();
  private readonly byConnection = new Map<object, Watcher>();
  private readonly bySender = new SenderCounts();
  private readonly byIdentity = new SenderCounts();
  private total = 0;

  constructor(private readonly limits: WatchLimits) {}

  get size(): number {
    return this.total;
  }

  /** Keeps `query` for `connection`; TOO_MANY_WATCHES, nothing changed, past a bound. Returns its number and the connection's count. */
  watch(connection: object, who: { sender: string; identity: string; notify: Watcher['notify'] }, query: SearchQuery): { watch: number; count: number } {
    const watcher = this.byConnection.get(connection) ?? { sender: who.sender, identity: who.identity, watches: new Map(), next: 1, notify: who.notify };
    const { maxWatchesPerAddress, maxWatchesPerIdentity, maxWatches } = this.limits;
    if (watcher.watches.size >= MAX_WATCHES_PER_CONNECTION) throw tooMany(`this connection already watches ${MAX_WATCHES_PER_CONNECTION} searches`);
    if (this.bySender.of(who.sender) >= maxWatchesPerAddress) throw tooMany(`${who.sender} already watches ${maxWatchesPerAddress} searches, over all its connections`);
    if (who.identity !== '' && this.byIdentity.of(who.identity) >= maxWatchesPerIdentity) throw tooMany(`this identity already watches ${maxWatchesPerIdentity} searches, over all its connections`);
    if (this.total >= maxWatches) throw tooMany(`this tracker keeps ${maxWatches} watches already`);
    const entry: WatchEntry = { number: watcher.next++, watcher, matcher: new SearchMatcher(query), keys: watchKeys(query), missed: false };
    watcher.watches.set(entry.number, entry);
    this.byConnection.set(connection, watcher);
    for (const key of entry.keys) {
      const filed = this.byKey.get(key) ?? new Set();
      filed.add(entry);
      this.byKey.set(key, filed);
    }
    this.bySender.add(who.sender);
    if (who.identity !== '') this.byIdentity.add(who.identity);
    this.total++;
    return { watch: entry.number, count: watcher.watches.size };
  }

  /** Ends `connection`'s watch `number` (if it has it); returns the connection's watches left. */
  unwatch(connection: object, number: number): number {
    const watcher = this.byConnection.get(connection);
    const entry = watcher?.watches.get(number);
    if (!watcher || !entry) return watcher?.watches.size ?? 0;
    watcher.watches.delete(number);
    for (const key of entry.keys) {
      const filed = this.byKey.get(key)!;
      filed.delete(entry);
      if (filed.size === 0) this.byKey.delete(key);
    }
    this.bySender.remove(watcher.sender);
    if (watcher.identity !== '') this.byIdentity.remove(watcher.identity);
    this.total--;
    if (watcher.watches.size === 0) this.byConnection.delete(connection);
    return watcher.watches.size;
  }

  /** Ends every watch of `connection` (it closed). */
  unwatchAll(connection: object): void {
    for (const number of [...(this.byConnection.get(connection)?.watches.keys() ?? [])]) this.unwatch(connection, number);
  }

  /**
   * Tells every watch that `files` (a share's chunk or change, from `identity`) match, one notice per
   * watch (at most MAX_WATCH_FILES_PER_NOTICE files; `more` beyond). A peer's own files are not news to
   * it. Yields to the event loop every WATCH_MATCH_SLICE names, so others are served meanwhile; the
   * registering connection waits for it (its next request is read after), which bounds what one sender
   * can make the tracker do.
   */
  async matchFiles(files: readonly FileEntry[], identity: string | undefined): Promise<void> {
    if (this.total === 0) return;
    const found = new Map<WatchEntry, { files: WatchMatch['files']; more: boolean }>();
    for (let start = 0; start < files.length; start += WATCH_MATCH_SLICE) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const file of files.slice(start, start + WATCH_MATCH_SLICE)) {
        for (const entry of this.candidates(file.name)) {
          if (identity !== undefined && entry.watcher.identity === identity) continue;
          if (entry.matcher.rank(file.name, file.size) === undefined) continue;
          const matches = found.get(entry) ?? { files: [], more: false };
          if (matches.files.length < MAX_WATCH_FILES_PER_NOTICE) matches.files.push({ name: file.name, size: file.size, sha256: file.sha256 });
          else matches.more = true;
          found.set(entry, matches);
        }
      }
    }
    for (const [entry, matches] of found) {
      // A watch ended while its matches were looked for hears nothing.
      if (entry.watcher.watches.get(entry.number) !== entry) continue;
      const sent = entry.watcher.notify({ type: 'watch_match', watch: entry.number, files: matches.files, more: matches.more || entry.missed });
      entry.missed = !sent;
    }
  }

  /** The watches filed under any key of `name`: each once. */
  private candidates(name: string): Set<WatchEntry> {
    const candidates = new Set<WatchEntry>();
    for (const key of nameKeys(name)) for (const entry of this.byKey.get(key) ?? []) candidates.add(entry);
    return candidates;
  }
}

/** The keys a watch is filed under: any name it matches has one of them (see SearchWatches). */
export function watchKeys(query: SearchQuery): string[] {
  if (query.include.length === 0) return query.extensions.map((ext) => `e:${ext}`);
  const longest = query.include.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  return [longest.wordStart ? `w:${longest.text}` : `t:${longest.text.slice(0, 3)}`];
}

/** Every key of `name`: its three-character pieces, the first one and two characters of each word, its extension. */
export function nameKeys(name: string): Set<string> {
  const folded = foldText(name);
  const keys = new Set<string>();
  for (let i = 0; i + 3 <= folded.length; i++) keys.add(`t:${folded.slice(i, i + 3)}`);
  for (const at of wordStarts(folded)) {
    const chars = [...folded.slice(at, at + 4)];
    keys.add(`w:${chars[0]}`);
    if (chars.length > 1) keys.add(`w:${chars[0]}${chars[1]}`);
  }
  const base = folded.slice(folded.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot >= 0) keys.add(`e:${base.slice(dot + 1)}`);
  return keys;
}

function tooMany(message: string): P2PError {
  return new P2PError('TOO_MANY_WATCHES', message, 'end a watch first (unwatch), or search now and then instead');
}
