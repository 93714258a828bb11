import type { Logger } from 'pino';
import type { LogEntry, MemberList } from '../store/store.js';

/** Most log entries read at once: a burst of operator commands is read over a few refreshes. */
const LOG_BATCH = 500;

/**
 * Follows the network's audit log (members.ts), so that a revocation made by `tracker revoke` on any
 * tracker's database reaches every tracker of the network within about `refreshMs`: each revoked
 * identity is told to `onRevoked`, which closes its connections. One indexed read per refresh, that
 * finds nothing nearly always.
 */
export class MemberWatch {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly members: MemberList,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly onRevoked: (identity: string, entry: LogEntry) => void,
  ) {}

  async start(): Promise<void> {
    this.seq = await this.members.lastSeq();
    this.timer = setInterval(() => (this.reading ??= this.read().finally(() => (this.reading = undefined))), this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reading;
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
  }
}
