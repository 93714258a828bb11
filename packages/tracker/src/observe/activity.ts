/** One peer arriving or leaving, as the status page lists it. */
export interface PeerEvent {
  at: Date;
  kind: 'joined' | 'left';
  /** HOST:PORT the share was listed under. */
  address: string;
  /** Files registered (joins only). */
  files?: number;
}

/** How many joins and leaves the status page remembers. */
export const RECENT_EVENTS = 20;

/** The last few joins and leaves of this tracker's peers, newest first. */
export class RecentActivity {
  private readonly events: PeerEvent[] = [];

  constructor(private readonly keep = RECENT_EVENTS) {}

  add(event: PeerEvent): void {
    this.events.unshift(event);
    if (this.events.length > this.keep) this.events.length = this.keep;
  }

  get recent(): readonly PeerEvent[] {
    return this.events;
  }
}
