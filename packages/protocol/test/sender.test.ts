import { describe, expect, it } from 'vitest';
import { SenderCounts, senderOf } from '../src/index.js';

/* Who per-sender limits count: an IPv4 address, or an IPv6 /64 (one machine can use all of its subnet). */

describe('senders', () => {
  it('are IPv4 addresses as they are, and IPv6 addresses by their /64', () => {
    expect(senderOf('192.0.2.7')).toBe('192.0.2.7');
    expect(senderOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(senderOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(senderOf('2001:db8:1:2::9')).toBe(senderOf('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(senderOf('2001:db8:1:3::1')).not.toBe(senderOf('2001:db8:1:2::1'));
    expect(senderOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(senderOf('::1')).toBe('0:0:0:0::/64');
    expect(senderOf('not an address')).toBe('not an address');
  });

  it('are counted, and forgotten once they hold nothing', () => {
    const counts = new SenderCounts();
    expect(counts.add('a')).toBe(1);
    expect(counts.add('a')).toBe(2);
    counts.add('b');
    counts.remove('a');
    expect(counts.of('a')).toBe(1);
    counts.remove('a');
    counts.remove('b');
    expect(counts.senders).toBe(0);
  });
});
