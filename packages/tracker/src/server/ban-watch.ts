import type { Feature, RemotePeer } from '@p2pservice/protocol';
import { P2PError, senderOf } from '@p2pservice/protocol';
import type { Logger } from 'pino';
import { Refresher } from './refresher.js';
import type { Ban, BanList } from '../store/store.js';

/** A time as the ban messages and `tracker bans` show it: ISO 8601 in UTC, to the second. */
export const banTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** When a ban ends, in words: `until 2026-12-02T23:00:00Z`, or `for good`. */
export const banEnd = (ban: Pick<Ban, 'until'>) => (ban.until === null ? 'for good' : `until ${banTime(ban.until)}`);

/**
 * The bans in force, as this tracker knows them: read from the network's database at start and then
 * every `refreshMs`, so that a ban made by `tracker ban` (on any tracker's database) reaches every
 * tracker of the network within about that. A client is banned by its identity or by its sender (an
 * IPv4 address, or an IPv6 /64). When the bans change, `onChange` is told, and the tracker refuses the
 * connections that are banned now.
 */
export class BanWatch {
  private bans = new Map<string, Ban>();
  private readonly refresher: Refresher;

  constructor(
    private readonly list: BanList,
    refreshMs: number,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.refresher = new Refresher(refreshMs, () => this.read());
  }

  async start(): Promise<void> {
    await this.read();
    this.refresher.start();
  }

  stop(): Promise<void> {
    return this.refresher.stop();
  }

  /** The refusal of a client with this identity from this address, if either is banned now; BANNED or, for a client without feature `banned`, ACCESS_DENIED. */
  refusalOf(remote: Pick<RemotePeer, 'host' | 'id'>, features: ReadonlySet<Feature>): P2PError | undefined {
    const byIdentity = remote.id === undefined ? undefined : this.inForce(remote.id);
    const ban = byIdentity ?? this.inForce(senderOf(remote.host));
    if (!ban) return undefined;
    const what = byIdentity ? 'this identity is' : `address ${ban.target} is`;
    return new P2PError(features.has('banned') ? 'BANNED' : 'ACCESS_DENIED', `${what} banned from the network ${banEnd(ban)}`);
  }

  private inForce(target: string): Ban | undefined {
    const ban = this.bans.get(target);
    return ban && (ban.until === null || ban.until > this.now()) ? ban : undefined;
  }

  private async read(): Promise<void> {
    let bans: Ban[];
    try {
      bans = await this.list.inForce(this.now());
    } catch (error) {
      // The bans known stay in force; the lease reports an unreachable database.
      this.logger.debug({ err: error }, 'could not read the bans');
      return;
    }
    const next = new Map(bans.map((ban) => [ban.target, ban]));
    const changed = next.size !== this.bans.size || bans.some((ban) => this.bans.get(ban.target)?.until !== ban.until);
    this.bans = next;
    if (changed) this.onChange();
  }
}
