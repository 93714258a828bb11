import type { Socket } from 'node:net';
import { SenderCounts, senderOf } from '../core/sender.js';
import { connectionKey, remotePeerOf } from './tcp-transport.js';

export interface HandshakeGateLimits {
  /** Handshakes in progress at once, in all. */
  maxPending: number;
  /** Handshakes in progress at once from one sender (address, or IPv6 /64). */
  maxPendingPerSender: number;
  /** Connections waiting for a handshake slot, in all. */
  maxWaiting: number;
  /** Connections waiting for a handshake slot from one sender. */
  maxWaitingPerSender: number;
}

interface Waiting {
  raw: Socket;
  sender: string;
  start: () => void;
}

/**
 * Bounds the TLS handshakes in progress, in all and per sender, so that connections that never finish
 * one (a flood, stalled clients) cannot crowd out the others. A connection beyond the bounds waits,
 * unread, for a slot (under the same deadline as its handshake). The line is per sender and served
 * round-robin, so a burst from one machine is served in turn while others keep getting slots; each
 * sender's line is bounded, and when the whole line is full a newcomer takes the last place of the
 * longest line, so a flood from one sender delays and drops only that sender's connections.
 */
export class HandshakeGate {
  private pending = 0;
  private readonly pendingBySender = new SenderCounts();
  /** Each sender's line, in arrival order; the map's order is the round-robin turn. */
  private readonly lines = new Map<string, Waiting[]>();
  private waitingCount = 0;
  /** Releases of the slots in use, by connectionKey (the TLS socket reporting a finished handshake is not the raw one). */
  private readonly releases = new Map<string, () => void>();

  constructor(private readonly limits: HandshakeGateLimits) {}

  /** Connections waiting now, in all (for tests and the status page). */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Calls `start` once `raw` may begin its handshake (now, or when a slot frees); false if it cannot even wait. */
  admit(raw: Socket, start: () => void): boolean {
    const sender = senderOf(remotePeerOf(raw).host);
    const line = this.lines.get(sender) ?? [];
    if (line.length >= this.limits.maxWaitingPerSender) return false;
    if (this.waitingCount >= this.limits.maxWaiting && !this.evictFromLongestLine(line.length + 1)) return false;
    const entry: Waiting = { raw, sender, start };
    line.push(entry);
    this.lines.set(sender, line);
    this.waitingCount++;
    raw.once('close', () => this.leaveLine(entry));
    this.drain();
    return true;
  }

  /** The handshake of this socket's connection is done: its slot is free. */
  secured(socket: Socket): void {
    this.releases.get(connectionKey(socket))?.();
  }

  /** Closes the newest waiting connection of the longest line, if that line is longer than `than`. */
  private evictFromLongestLine(than: number): boolean {
    let longest: Waiting[] | undefined;
    for (const line of this.lines.values()) if (!longest || line.length > longest.length) longest = line;
    if (!longest || longest.length <= than) return false;
    const evicted = longest.pop()!;
    this.forget(evicted);
    evicted.raw.destroy();
    return true;
  }

  private leaveLine(entry: Waiting): void {
    const line = this.lines.get(entry.sender);
    const at = line?.indexOf(entry) ?? -1;
    if (at < 0) return;
    line!.splice(at, 1);
    this.forget(entry);
  }

  /** Takes `entry` out of the count (and its line out of the map once empty); it is no longer in its line. */
  private forget(entry: Waiting): void {
    this.waitingCount--;
    if (this.lines.get(entry.sender)?.length === 0) this.lines.delete(entry.sender);
  }

  /** Gives free slots to the lines in turn: one connection per sender per round. */
  private drain(): void {
    let progress = true;
    while (progress && this.pending < this.limits.maxPending && this.lines.size > 0) {
      progress = false;
      for (const [sender, line] of [...this.lines]) {
        if (this.pending >= this.limits.maxPending) break;
        if (this.pendingBySender.of(sender) >= this.limits.maxPendingPerSender) continue;
        const entry = line.shift()!;
        this.forget(entry);
        // Served: this sender goes to the end of the turn.
        if (line.length > 0) {
          this.lines.delete(sender);
          this.lines.set(sender, line);
        }
        this.take(entry);
        progress = true;
      }
    }
  }

  private take({ raw, sender, start }: Waiting): void {
    this.pending++;
    this.pendingBySender.add(sender);
    const key = connectionKey(raw);
    const release = () => {
      if (!this.releases.delete(key)) return;
      this.pending--;
      this.pendingBySender.remove(sender);
      this.drain();
    };
    this.releases.set(key, release);
    raw.once('close', release);
    start();
  }
}
