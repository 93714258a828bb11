/**
 * Runs `work` every `everyMs`, never two at once (a slow database makes a round late, not a pile of
 * them); `stop` waits for the round in progress. The watches of bans and of the audit log run on one.
 */
export class Refresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly everyMs: number,
    private readonly work: () => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => (this.running ??= this.work().finally(() => (this.running = undefined))), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
