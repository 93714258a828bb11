import type { SenderTurns } from './peer-state.js';

/**
 * At most `max` at once per sender; the rest wait in their sender's line, first come first served. The
 * lines need no bound of their own: each connection asks one thing at a time, and connections per
 * sender are bounded.
 */
export class SenderLines implements SenderTurns {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly max: number) {}

  take(sender: string): Promise<() => void> {
    return new Promise((resolve) => {
      const start = () => {
        this.running.set(sender, (this.running.get(sender) ?? 0) + 1);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.release(sender);
        });
      };
      if ((this.running.get(sender) ?? 0) < this.max) return start();
      const line = this.waiting.get(sender) ?? [];
      line.push(start);
      this.waiting.set(sender, line);
    });
  }

  private release(sender: string): void {
    const left = (this.running.get(sender) ?? 1) - 1;
    if (left > 0) this.running.set(sender, left);
    else this.running.delete(sender);
    const line = this.waiting.get(sender);
    const next = line?.shift();
    if (line?.length === 0) this.waiting.delete(sender);
    next?.();
  }
}
