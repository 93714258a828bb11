import { type ContentHolder, P2PError, SenderCounts } from '@p2pservice/protocol';

/** What one connection offers, and who it counts against. */
interface Offerer {
  sender: string;
  identity: string;
  /** Its offers, by sha256. */
  offers: Map<string, ContentHolder>;
}

/** The bounds of the offers (TrackerLimits): per connection, per sender, per identity and in all. */
export interface OfferLimits {
  maxOffersPerConnection: number;
  maxOffersPerAddress: number;
  maxOffersPerIdentity: number;
  maxOffers: number;
}

/**
 * The partial holders this tracker knows (feature `partial`): downloaders that offer the pieces they have
 * verified of the content they are downloading. They live in memory, as long as the connection that
 * offered them: a download lasts minutes, and an offer that outlived its connection would send others to
 * a peer that is gone. Every offer counts against its connection, its sender and its identity.
 */
export class PartialOffers {
  private readonly bySha256 = new Map<string, Map<object, ContentHolder & { sender: string }>>();
  private readonly byConnection = new Map<object, Offerer>();
  private readonly bySender = new SenderCounts();
  private readonly byIdentity = new SenderCounts();
  private total = 0;

  constructor(private readonly limits: OfferLimits) {}

  /**
   * Lists `holder` (marked partial) as a holder of `sha256` for `connection`, replacing that connection's
   * earlier offer of it. TOO_MANY_OFFERS, nothing changed, past a bound. Returns the connection's offers.
   */
  offer(connection: object, who: { sender: string; identity: string }, sha256: string, holder: ContentHolder): number {
    const offerer = this.byConnection.get(connection) ?? { ...who, offers: new Map() };
    const listed: ContentHolder = { ...holder, partial: true };
    if (!offerer.offers.has(sha256)) {
      const { maxOffersPerConnection, maxOffersPerAddress, maxOffersPerIdentity, maxOffers } = this.limits;
      if (offerer.offers.size >= maxOffersPerConnection) throw tooMany(`this connection already offers ${maxOffersPerConnection} contents`);
      if (this.bySender.of(who.sender) >= maxOffersPerAddress) throw tooMany(`${who.sender} already offers ${maxOffersPerAddress} contents, over all its connections`);
      if (this.byIdentity.of(who.identity) >= maxOffersPerIdentity) throw tooMany(`this identity already offers ${maxOffersPerIdentity} contents, over all its connections`);
      if (this.total >= maxOffers) throw tooMany(`this tracker lists ${maxOffers} offers already`);
      this.bySender.add(who.sender);
      this.byIdentity.add(who.identity);
      this.total++;
    }
    offerer.offers.set(sha256, listed);
    this.byConnection.set(connection, offerer);
    const holders = this.bySha256.get(sha256) ?? new Map();
    holders.set(connection, { ...listed, sender: who.sender });
    this.bySha256.set(sha256, holders);
    return offerer.offers.size;
  }

  /** Ends `connection`'s offer of `sha256` (if any); returns the connection's offers left. */
  withdraw(connection: object, sha256: string): number {
    const offerer = this.byConnection.get(connection);
    if (!offerer?.offers.delete(sha256)) return offerer?.offers.size ?? 0;
    this.bySender.remove(offerer.sender);
    this.byIdentity.remove(offerer.identity);
    this.total--;
    const holders = this.bySha256.get(sha256)!;
    holders.delete(connection);
    if (holders.size === 0) this.bySha256.delete(sha256);
    if (offerer.offers.size === 0) this.byConnection.delete(connection);
    return offerer.offers.size;
  }

  /** Ends every offer of `connection` (it closed). */
  withdrawAll(connection: object): void {
    for (const sha256 of [...(this.byConnection.get(connection)?.offers.keys() ?? [])]) this.withdraw(connection, sha256);
  }

  /**
   * Up to `max` partial holders of `sha256`, taken in turns across senders (each sender's in a random
   * order), so that one machine's many offers cannot hide the others'.
   */
  holdersOf(sha256: string, max: number): ContentHolder[] {
    const bySender = new Map<string, ContentHolder[]>();
    for (const { sender, ...holder } of this.bySha256.get(sha256)?.values() ?? []) {
      const list = bySender.get(sender) ?? [];
      list.push(holder);
      bySender.set(sender, list);
    }
    const turns = shuffled([...bySender.values()].map(shuffled));
    const chosen: ContentHolder[] = [];
    for (let round = 0; chosen.length < max; round++) {
      let any = false;
      for (const list of turns) {
        if (round < list.length && chosen.length < max) {
          chosen.push(list[round]!);
          any = true;
        }
      }
      if (!any) break;
    }
    return chosen;
  }
}

function tooMany(message: string): P2PError {
  return new P2PError('TOO_MANY_OFFERS', message, 'the download goes on without being offered to others');
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
