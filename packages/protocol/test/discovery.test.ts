import { describe, expect, it } from 'vitest';
import { readAnnouncement, trackerTxt } from '../src/index.js';
import { announceInterface } from '../src/discovery/mdns.js';
import { testIdentity } from '@p2pservice/test-support/tls';

const id = testIdentity('tracker').id;
const good = { name: 'lab', port: 7070, txt: trackerTxt(id, 'key'), addresses: ['192.0.2.9', 'fe80::1'], referer: { address: '192.0.2.2' } };

describe('an answer on the LAN', () => {
  it('reads as a tracker: the address it came from first, then the ones it lists (no link-local)', () => {
    expect(readAnnouncement(good)).toEqual({ name: 'lab', id, network: 'key', port: 7070, hosts: ['192.0.2.2', '192.0.2.9'], version: 2 });
  });

  it.each([
    ['no name', { ...good, name: '' }, 'it has no name'],
    ['a port that is none', { ...good, port: 70000 }, 'its port 70000 is not one'],
    ['no identity', { ...good, txt: { ...good.txt, id: 'nope' } }, /its TXT id "nope" is not an identity/],
    ['an unknown network kind', { ...good, txt: { ...good.txt, net: 'secret' } }, 'its network kind "secret" is unknown'],
    ['no version', { ...good, txt: { id, net: 'open' } }, 'it names no protocol version'],
    ['no address', { ...good, addresses: [], referer: undefined }, 'it names no address'],
  ])('with %s is not a tracker, and says why', (_label, answer, why) => {
    const read = readAnnouncement(answer);
    expect(typeof read).toBe('string');
    expect(read).toMatch(why);
  });
});

describe('where a tracker is announced', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: '192.0.2.2', family: 'IPv4', internal: false },
      { address: '2001:db8::2', family: 'IPv6', internal: false },
    ],
    wg0: [{ address: 'fd00::7', family: 'IPv6', internal: false }],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;

  it.each([
    ['0.0.0.0', undefined],
    ['::', undefined],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '127.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['192.0.2.2', '192.0.2.2'],
    ['2001:db8::2', '192.0.2.2'],
    ['fd00::7', null],
    ['2001:db8::99', null],
  ])('a listener on %s: %s', (host, expected) => {
    expect(announceInterface(host, interfaces)).toBe(expected);
  });
});
