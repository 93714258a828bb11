import type { Logger } from 'pino';
import { Refresher } from './refresher.js';
import type { LogEntry, MemberList } from '../store/store.js';

/** Most log entries read at once: a burst of operator commands is read over a few refreshes. */
const LOG_BATCH = 500;

/** How often a members network's tracker records again that it signs tickets. */
const SIGNER_RENEW_MS = 3_600_000;

/**
 * Follows the network's audit log (members.ts), so that a revocation made by `tracker revoke` on any
 * tracker's database reaches every tracker of the network within about `refreshMs`: each revoked
 * identity is told to `onRevoked`, which closes its connections. One indexed read per refresh, that
 * finds nothing nearly always; on a members network one more, of the trackers that sign tickets.
 */
export class MemberWatch {
  private seq = 0;
  private readonly refresher: Refresher;

  constructor(
    private readonly members: MemberList,
    refreshMs: number,
    private readonly logger: Logger,
    private readonly onRevoked: (identity: string, entry: LogEntry) => void,
    /** On a members network: this tracker's identity, recorded as a signer of tickets before it listens. */
    private readonly signing?: { identity: string },
  ) {
    this.refresher = new Refresher(refreshMs, () => this.read());
  }

  private signedAt = 0;

  async start(): Promise<void> {
    this.seq = await this.members.lastSeq();
    await this.recordSigner();
    this.refresher.start();
  }

  stop(): Promise<void> {
    return this.refresher.stop();
  }

  private async read(): Promise<void> {
    let entries: LogEntry[];
    try {
      entries = await this.members.log(this.seq, LOG_BATCH);
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the audit log');
      return;
    }
    for (const entry of entries) {
      this.seq = entry.seq;
      if (entry.event === 'revoke') this.onRevoked(entry.subject, entry);
    }
    await this.recordSigner().catch((error: unknown) => this.logger.debug({ err: error }, 'could not read the ticket signers'));
  }

  /** Records this tracker as a signer of tickets: at start, then hourly (the gate forgets one not heard of for a week). */
  private async recordSigner(): Promise<void> {
    if (!this.signing) return;
    const now = Date.now();
    if (now - this.signedAt < SIGNER_RENEW_MS) return;
    await this.members.addSigner(this.signing.identity, now);
    this.signedAt = now;
  }
}
