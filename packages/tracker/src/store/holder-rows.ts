import { type Content, type ContentHolder, senderOf } from '@p2pservice/protocol';

/*
 * Who-has answers are lists a stranger can fill: anyone may register a name, or a content, as often as
 * its connections allow. So they are never first come, first served. Holders and contents are taken in
 * turns across *senders* (an address, or an IPv6 /64): every sender's first, then every sender's second,
 * and so on, reachable holders before firewalled ones within a turn. Sixty-four fakes from one machine
 * take one place per turn, and an honest holder or content from anywhere else is always among the first.
 */

/** A holder as both stores read it: the flag is a column (0/1 in SQLite, a boolean in PostgreSQL). */
export interface HolderFields extends Omit<ContentHolder, 'firewalled'> {
  firewalled: number | boolean;
}

/** One holder of one content of a name, as both stores read them. */
export interface HolderRow extends HolderFields {
  sha256: string;
  size: number;
}

/** The holder as the wire has it: `firewalled` only when set. */
export function contentHolderOf(row: HolderFields): ContentHolder {
  return { host: row.host, port: row.port, id: row.id, root: row.root, ...(row.firewalled ? { firewalled: true } : {}) };
}

/**
 * Up to `max` of `items`, in turns across the senders `senderOfItem` names (in the order each sender
 * first appears), each sender's items in their given order; within a turn, `first` items lead.
 */
function inTurns<T>(items: Iterable<T>, max: number, senderOfItem: (item: T) => string, first: (item: T) => boolean = () => false): T[] {
  const bySender = new Map<string, T[]>();
  for (const item of items) {
    const sender = senderOfItem(item);
    const list = bySender.get(sender);
    if (list) list.push(item);
    else bySender.set(sender, [item]);
  }
  const chosen: T[] = [];
  for (let turn = 0; chosen.length < max; turn++) {
    const inTurn: T[] = [];
    for (const list of bySender.values()) if (turn < list.length) inTurn.push(list[turn]!);
    if (inTurn.length === 0) break;
    // Stable: within a turn, the favoured ones first, each group in sender order.
    chosen.push(...[...inTurn.filter(first), ...inTurn.filter((item) => !first(item))].slice(0, max - chosen.length));
  }
  return chosen;
}

/** Each sender's reachable holders before its firewalled ones (a firewalled downloader can use only those). */
const reachableFirst = <T extends HolderFields>(rows: readonly T[]): T[] => [...rows.filter((row) => !row.firewalled), ...rows.filter((row) => row.firewalled)];

/** Up to `max` holders of one content, in turns across senders, reachable first. */
export function fairHolders(rows: readonly HolderFields[], max: number): ContentHolder[] {
  return inTurns(reachableFirst(rows), max, (row) => senderOf(row.host), (row) => !row.firewalled).map(contentHolderOf);
}

/**
 * The contents of one name with their holders, from every holder row of that name: at most `maxContents`
 * contents, chosen in turns across the senders that hold them, each with at most `maxHolders` holders
 * (fairHolders). Listed in sha256 order.
 */
export function contentsOf(rows: readonly HolderRow[], maxContents: number, maxHolders: number): Content[] {
  const bySha = new Map<string, HolderRow[]>();
  for (const row of rows) {
    const list = bySha.get(row.sha256);
    if (list) list.push(row);
    else bySha.set(row.sha256, [row]);
  }
  // Each sender's contents (each once, in row order); a content held by several senders has a turn with each.
  const bySender = new Map<string, string[]>();
  for (const row of rows) {
    const sender = senderOf(row.host);
    const list = bySender.get(sender) ?? [];
    if (!list.includes(row.sha256)) list.push(row.sha256);
    bySender.set(sender, list);
  }
  const chosen = new Set<string>();
  for (let turn = 0; chosen.size < maxContents; turn++) {
    const inTurn = [...bySender.values()].filter((list) => turn < list.length);
    if (inTurn.length === 0) break;
    for (const list of inTurn) if (chosen.size < maxContents) chosen.add(list[turn]!);
  }
  return [...chosen]
    .sort()
    .map((sha256) => {
      const holders = bySha.get(sha256)!;
      return { sha256, size: holders[0]!.size, holders: fairHolders(holders, maxHolders) };
    });
}
