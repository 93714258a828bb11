import { P2PError, type Ticket, TicketChecker, type Welcome } from '@p2pservice/protocol';

/** Whether a holder's network wants tickets (a members network), and whose signatures count. */
export interface HolderAdmission {
  /** members: a good ticket before any request; other: none; unknown: the tracker has not said yet, so nothing is served. */
  network(): 'members' | 'other' | 'unknown';
  readonly checker: TicketChecker;
}

/** After a renewal failed (the tracker out of reach), the next try waits this long. */
const RETRY_MS = 5_000;

/**
 * A peer's part in a members network (README#tickets), fed by every welcome from the network's trackers:
 * - as a downloader, the ticket it shows holders, renewed in the background once half its life is gone
 *   (so a holder never sees it end while the member is in good standing);
 * - as a holder, whether its network wants tickets at all, and which trackers' signatures count: those
 *   that proved their identity to this peer and said the network is a members one.
 */
export class MemberTickets implements HolderAdmission {
  private kind: 'members' | 'other' | 'unknown' = 'unknown';
  private readonly signers = new Set<string>();
  readonly checker = new TicketChecker((signer) => this.signers.has(signer));
  private ticket: Ticket | undefined;
  private receivedAt = 0;
  private renewing: Promise<void> | undefined;
  private nextTry = 0;
  /**
   * Why the tracker last refused a renewal (revoked, banned), until a ticket comes again: holders stop
   * serving once the ticket ends, and a download says this rather than "connection closed".
   */
  refusal: P2PError | undefined;

  constructor(
    private readonly renew: () => Promise<Ticket>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A tracker of the network welcomed us; `trackerId` is the identity it proved in TLS. */
  welcomed(welcome: Welcome, trackerId: string | undefined): void {
    this.kind = welcome.network === 'members' ? 'members' : 'other';
    if (welcome.network === 'members' && trackerId) {
      // Our tracker proved its identity in TLS; the other trackers of the network are those it names.
      this.signers.add(trackerId);
      for (const signer of welcome.signers ?? []) this.signers.add(signer);
    }
    if (welcome.ticket) this.take(welcome.ticket);
  }

  network(): 'members' | 'other' | 'unknown' {
    return this.kind;
  }

  /** The ticket to show holders now, if the network gave one; starts a renewal once it is half spent. */
  current(): Ticket | undefined {
    const ticket = this.ticket;
    if (ticket && !this.renewing && this.now() >= this.nextTry) {
      const halfLife = (ticket.until - this.receivedAt) / 2;
      if (this.now() >= this.receivedAt + halfLife) {
        this.renewing = this.renew()
          .then(
            (fresh) => this.take(fresh),
            (error: unknown) => {
              this.nextTry = this.now() + RETRY_MS;
              if (error instanceof P2PError && (error.code === 'ACCESS_DENIED' || error.code === 'BANNED')) this.refusal = error;
            },
          )
          .finally(() => (this.renewing = undefined));
      }
    }
    return ticket;
  }

  private take(ticket: Ticket): void {
    this.refusal = undefined;
    this.ticket = ticket;
    this.receivedAt = this.now();
  }
}
