import ipaddr from 'ipaddr.js';

/*
 * Who a per-sender limit counts: the remote address an IPv4 packet comes from, or the /64 an IPv6
 * packet comes from. One IPv6 machine can use any of the 2^64 addresses of its subnet (privacy
 * addresses, or just by choosing), so counting single IPv6 addresses would bound nothing.
 */

/** The key per-sender limits count `host` under: IPv4 as it is, IPv6 as `prefix::/64`, anything else as given. */
export function senderOf(host: string): string {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns an IPv4-mapped IPv6 address back into IPv4; a zone (`%eth0`) is dropped.
    address = ipaddr.process(host.replace(/%.*$/, ''));
  } catch {
    return host;
  }
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${parts.join(':')}::/64`;
}

/** How much of something (connections, handshakes, searches, files) each sender holds now. */
export class SenderCounts {
  private readonly counts = new Map<string, number>();

  /** What `sender` holds now. */
  of(sender: string): number {
    return this.counts.get(sender) ?? 0;
  }

  /** `by` (one) more for `sender`; returns its new count. */
  add(sender: string, by = 1): number {
    const count = this.of(sender) + by;
    if (count > 0) this.counts.set(sender, count);
    else this.counts.delete(sender);
    return count;
  }

  /** `by` (one) fewer for `sender` (forgotten at zero, so the map holds only senders that hold something). */
  remove(sender: string, by = 1): void {
    this.add(sender, -by);
  }

  /** Senders that hold anything. */
  get senders(): number {
    return this.counts.size;
  }
}
