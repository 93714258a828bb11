import { join } from 'node:path';
import { generateNetworkKey, parseEndpoint, parseNetworkKey } from '@p2pservice/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, removeDir, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';
import { decodeTerminalQr } from '@p2pservice/test-support/qr';
import { killTerminals, startOnTerminal } from '@p2pservice/test-support/terminal';
import { testIdentity } from '@p2pservice/test-support/tls';
import { eventually } from '@p2pservice/test-support/wait';
import { joinLinks, terminalQr } from '../src/join-link.js';

const id = testIdentity('tracker').id;
const folders: string[] = [];

afterAll(async () => {
  killTerminals();
  for (const folder of folders) removeDir(folder);
});

describe('join links', () => {
  it('are one per address, with the key on a private network, and none on a members network', () => {
    const addresses = [`10.0.0.5:7070#${id}`, `[fd00::5]:7070#${id}`];
    expect(joinLinks(addresses, 'open', undefined)).toEqual([`p2p://10.0.0.5:7070#${id}`, `p2p://[fd00::5]:7070#${id}`]);
    const key = generateNetworkKey();
    const [keyed] = joinLinks(addresses, 'key', parseNetworkKey(key));
    expect(keyed).toBe(`p2p://10.0.0.5:7070#${id}?key=${key}`);
    expect(parseEndpoint(keyed!)).toEqual({ host: '10.0.0.5', port: 7070, id, key });
    expect(joinLinks(addresses, 'members', undefined)).toEqual([]);
  });

  it('drawn as a QR code for a terminal, read back the same', async () => {
    const link = joinLinks([`10.0.0.5:7070#${id}`], 'key', parseNetworkKey(generateNetworkKey()))[0]!;
    expect(decodeTerminalQr(await terminalQr(link))).toBe(link);
  });

  it('`tracker start` on a terminal shows the link, and a QR code of it', async () => {
    const folder = tempDir('p2p-join-link-');
    folders.push(folder);
    const tracker = startOnTerminal(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', '0', '--db', join(folder, 'tracker.db'), '--new-key'], { cwd: folder, env: cleanEnv() });
    await tracker.waitFor(/Peers join with this link \(private network; the link holds its key, give it only to members\): peer join '<link>'\r?\n {2}p2p:\S+\r?\n/);
    const shown = tracker.output();
    const link = /^ {2}(p2p:\S+)\r?$/m.exec(shown)![1]!;
    const key = /^NETWORK_KEY=(\S+)\r?$/m.exec(shown)![1]!;
    expect(link).toMatch(new RegExp(`^p2p://127\\.0\\.0\\.1:\\d+#[A-Z2-7-]{63}\\?key=${key}$`));
    // The QR code follows the link; through a pseudo-terminal it may arrive a moment after it.
    await eventually(() => decodeTerminalQr(tracker.output().replaceAll('\r', '')) === link);
    expect(decodeTerminalQr(tracker.output().replaceAll('\r', ''))).toBe(link);
    tracker.type('\x03');
    expect(await tracker.exited).toBe(0);
  });
});
