import { type Content, type ContentHolder, formatAddress, type LinkedContent, P2PError, quoted, sharedNameProblem } from '@p2pservice/protocol';
import { AGENTS } from '../network/agents.js';
import { askTracker, type NetworkAccess } from '../network/tracker-access.js';

/** Several contents share the requested name and none was picked: the caller lists them. */
export class AmbiguousNameError extends P2PError {
  constructor(
    name: string,
    readonly contents: Content[],
  ) {
    super('AMBIGUOUS', `${quoted(name)} is shared with ${contents.length} different contents`, 'pick one with --sha256 PREFIX');
  }
}

/** BAD_CONFIG, naming the problem, when `name` cannot be a shared name (before anything is asked or made). */
export function checkSharedName(name: string): void {
  const problem = sharedNameProblem(name);
  if (problem) throw new P2PError('BAD_CONFIG', `${quoted(name)} is not a valid file name: it ${problem}`, 'use a name as `peer list` shows it');
}

/** Asks the tracker who holds `name` and picks the one content to fetch. */
export async function resolveContent(access: NetworkAccess, name: string, sha256Prefix?: string): Promise<Content> {
  checkSharedName(name);
  // A whole sha256 is asked for exactly: however many other contents others list under that name.
  const exact = sha256Prefix?.length === 64 ? sha256Prefix : undefined;
  const contents = await askTracker(access, AGENTS.download, (session) => session.whoHas(name, exact));
  if (contents.length === 0) throw new P2PError('NOT_FOUND', `no holder of ${quoted(name)} is online`, 'check the name with `peer list`');
  const matching = sha256Prefix ? contents.filter((c) => c.sha256.startsWith(sha256Prefix)) : contents;
  if (matching.length === 0) {
    throw new P2PError('NOT_FOUND', `no content of ${quoted(name)} has a sha256 starting with ${sha256Prefix}`, 'see `peer list` for the hashes');
  }
  if (matching.length > 1) throw new AmbiguousNameError(name, matching);
  return matching[0]!;
}

/**
 * The holders of exactly the content a link names, under whatever name each shares it now (a link
 * survives a rename), and only those serving the piece tree it names, if it names one. A tracker without
 * feature who_has_content is asked by the link's name instead.
 */
export async function resolveLinkedContent(access: NetworkAccess, linked: LinkedContent): Promise<Content> {
  const holders = await askTracker(access, AGENTS.download, async (session) =>
    session.supports('who_has_content')
      ? session.whoHasContent(linked.sha256)
      : ((await session.whoHas(linked.name, linked.sha256)).find((c) => c.sha256 === linked.sha256 && c.size === linked.size)?.holders ?? []),
  );
  const serving = holders.filter((h) => linked.root === undefined || h.root === linked.root);
  if (serving.length === 0) {
    throw new P2PError('NOT_FOUND', `nobody online shares the content of this link (${quoted(linked.name)}, sha256 ${linked.sha256.slice(0, 12)})`, 'try again when its holder is online, or ask for a new link');
  }
  return { sha256: linked.sha256, size: linked.size, holders: serving };
}

/** The root most complete holders of `content` serve: the piece tree a link names. */
export function commonRoot(content: Content): string | undefined {
  const counts = new Map<string, number>();
  for (const h of content.holders) if (!h.partial) counts.set(h.root, (counts.get(h.root) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * The current holders of the same content, from a second look at the tracker: those sharing it under the
 * requested name, and (where the tracker offers it) those sharing the same bytes under any other name.
 * A tracker that cannot be asked yields none: the caller has already tried everyone it knew.
 */
export async function freshHolders(access: NetworkAccess, name: string, content: Content): Promise<ContentHolder[]> {
  try {
    return await askTracker(access, AGENTS.download, async (session) => {
      const byName = (await session.whoHas(name, content.sha256)).find((c) => c.size === content.size)?.holders ?? [];
      const byContent = session.supports('who_has_content') ? await session.whoHasContent(content.sha256) : [];
      const seen = new Set<string>();
      return [...byName, ...byContent].filter((h) => {
        const key = formatAddress(h);
        return seen.has(key) ? false : (seen.add(key), true);
      });
    });
  } catch {
    return [];
  }
}
