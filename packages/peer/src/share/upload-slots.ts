import { QUEUE_NOTICE_MS, SenderCounts } from '@p2pservice/protocol';

export interface UploadSlotLimits {
  /** Uploads served at once, in all. */
  maxUploads: number;
  /** Fetches waiting for a slot, in all; one more gets BUSY. */
  maxQueue: number;
  /** Uploads one sender (an address, or IPv6 /64) gets at once; its further fetches wait in line. */
  maxUploadsPerAddress: number;
  /** Places one sender holds in the line; one more of its fetches gets BUSY. */
  maxQueuePerAddress: number;
}

/** How a fetch waits: whether it may (feature `queue`), how it hears its place, and when its downloader is gone. */
export interface Waiter {
  queues: boolean;
  tell(position: number): Promise<void>;
  gone: Promise<void>;
  isGone(): boolean;
}

/** A slot taken (release it), or why not: BUSY with a reason, or the downloader gone while it waited. */
export type SlotOutcome = { taken: true } | { busy: string } | { gone: true };

interface Place {
  sender: string;
  wake: () => void;
}

/**
 * The holder's upload slots and the line for them, first come first served, with each sender held to a
 * share of both: one machine's many connections cannot take every slot, nor fill the line, while others
 * wait. A fetch whose sender has its share of slots waits even when a slot is free; the first in line
 * that may take a free slot takes it.
 */
export class UploadSlots {
  private active = 0;
  private readonly activeBySender = new SenderCounts();
  private readonly line: Place[] = [];
  private readonly waitingBySender = new SenderCounts();

  constructor(private readonly limits: UploadSlotLimits) {}

  /** Uploads running now. */
  get uploads(): number {
    return this.active;
  }

  async take(sender: string, waiter: Waiter): Promise<SlotOutcome> {
    const { maxUploads, maxQueue, maxQueuePerAddress } = this.limits;
    if (this.mayTake(sender) && !this.line.some((place) => this.mayTake(place.sender))) return this.start(sender);
    if (!waiter.queues) return { busy: `all ${maxUploads} upload slots are in use; try again later` };
    if (this.line.length >= maxQueue) return { busy: `all ${maxUploads} upload slots are in use and ${maxQueue} downloads are waiting; try again later` };
    if (this.waitingBySender.of(sender) >= maxQueuePerAddress) return { busy: `${sender} already has ${maxQueuePerAddress} downloads waiting here; try again later` };
    const place: Place = { sender, wake: () => {} };
    this.line.push(place);
    this.waitingBySender.add(sender);
    let told = 0;
    try {
      for (;;) {
        // The first in line that may take a free slot takes it.
        if (this.line.find((p) => this.mayTake(p.sender)) === place) return this.start(sender);
        const position = this.line.indexOf(place) + 1;
        if (position !== told) {
          await waiter.tell(position);
          told = position;
        }
        const timer = setTimeout(() => place.wake(), QUEUE_NOTICE_MS);
        await Promise.race([new Promise<void>((resolve) => (place.wake = resolve)), waiter.gone]);
        clearTimeout(timer);
        if (waiter.isGone()) return { gone: true };
        if (this.line.indexOf(place) + 1 === told) told = 0; // same place after a while: say it again
      }
    } finally {
      this.line.splice(this.line.indexOf(place), 1);
      this.waitingBySender.remove(sender);
      this.wakeAll();
    }
  }

  /** The upload of `sender` is over: its slot is free. */
  release(sender: string): void {
    this.active--;
    this.activeBySender.remove(sender);
    this.wakeAll();
  }

  private mayTake(sender: string): boolean {
    return this.active < this.limits.maxUploads && this.activeBySender.of(sender) < this.limits.maxUploadsPerAddress;
  }

  private start(sender: string): SlotOutcome {
    this.active++;
    this.activeBySender.add(sender);
    return { taken: true };
  }

  private wakeAll(): void {
    for (const place of this.line) place.wake();
  }
}
