import { type FileEntry, foldText, MAX_WATCH_FILES_PER_NOTICE, MAX_WATCHES_PER_CONNECTION, P2PError, type SearchQuery, SearchMatcher, SenderCounts, type WatchMatch, wordStarts } from '@p2pservice/protocol';

/** The bounds of the watches (TrackerLimits): per sender, per identity and in all; per connection is the protocol's. */
export interface WatchLimits {
  maxWatchesPerAddress: number;
  maxWatchesPerIdentity: number;
  maxWatches: number;
}

/** Longest the matching of a change against the watches runs before it lets the event loop turn. */
export const WATCH_MATCH_SLICE_MS = 10;

/** One kept search of one connection. */
interface WatchEntry {
  number: number;
  watcher: Watcher;
  matcher: SearchMatcher;
  keys: string[];
  /** Keys every name it matches has (each piece of each word): checked before the matcher, much cheaper. */
  required: string[];
  /** A notice could not be sent (the watcher's connection was full): the next one says `more`. */
  missed: boolean;
  /** The last name it was a candidate for (a number per name): a name filed under several of its keys is checked once. */
  seen: number;
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
  /** Names matched so far: each name's number stamps the watches it was checked against. */
  private names = 0;

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
    const entry: WatchEntry = { number: watcher.next++, watcher, matcher: new SearchMatcher(query), keys: watchKeys(query), required: requiredKeys(query), missed: false, seen: 0 };
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
   * it. Lets the event loop turn every WATCH_MATCH_SLICE_MS, so others are served meanwhile; the
   * registering connection waits for it (its next request is read after), which bounds what one sender
   * can make the tracker do.
   */
  async matchFiles(files: readonly FileEntry[], identity: string | undefined): Promise<void> {
    if (this.total === 0) return;
    const found = new Map<WatchEntry, { files: WatchMatch['files']; more: boolean }>();
    let sliceStart = performance.now();
    for (const file of files) {
      if (performance.now() - sliceStart >= WATCH_MATCH_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      const folded = foldText(file.name);
      const keys = foldedNameKeys(folded);
      const stamp = ++this.names;
      for (const key of keys) {
        for (const entry of this.byKey.get(key) ?? []) {
          if (entry.seen === stamp) continue;
          entry.seen = stamp;
          if (identity !== undefined && entry.watcher.identity === identity) continue;
          const matches = found.get(entry);
          // A watch whose notice is full already only needs to know there is more: once is enough.
          if (matches?.more) continue;
          if (!entry.required.every((required) => keys.has(required)) || entry.matcher.rankFolded(folded, file.size) === undefined) continue;
          if (!matches) found.set(entry, { files: [{ name: file.name, size: file.size, sha256: file.sha256 }], more: false });
          else if (matches.files.length < MAX_WATCH_FILES_PER_NOTICE) matches.files.push({ name: file.name, size: file.size, sha256: file.sha256 });
          else matches.more = true;
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

}

/** The keys a watch is filed under: any name it matches has one of them (see SearchWatches). */
export function watchKeys(query: SearchQuery): string[] {
  if (query.include.length === 0) return query.extensions.map((ext) => `e:${ext}`);
  const longest = query.include.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  return [longest.wordStart ? `w:${longest.text}` : `t:${longest.text.slice(0, 3)}`];
}

/** The keys any name `query` matches must have: every piece of every word it includes. */
export function requiredKeys(query: SearchQuery): string[] {
  const keys = new Set<string>();
  for (const term of query.include) {
    if (term.wordStart) keys.add(`w:${term.text}`);
    else for (let i = 0; i + 3 <= term.text.length; i++) keys.add(`t:${term.text.slice(i, i + 3)}`);
  }
  return [...keys];
}

/** Every key of a folded name: its three-character pieces, the first one and two characters of each word, its extension. */
export function foldedNameKeys(folded: string): Set<string> {
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
