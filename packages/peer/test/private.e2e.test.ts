import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { encodeFrame, parseNetworkKey } from '@p2pservice/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, forChild, killAll, PEER_BIN, removeDir, run, type Running, start, startTrackerCli, tempDir, TRACKER_BIN } from '@p2pservice/test-support/processes';

/*
 * A private network as its users meet it, through the built CLIs: a tracker made private with --new-key,
 * members with the key in their .env, and everyone else refused with one line.
 */

let root: string;
let tracker: Awaited<ReturnType<typeof startTrackerCli>>;
let key: string;
const members: string[] = [];
const sharers: Running[] = [];

/** A member's folder: the key in its .env, readable by its owner only. */
function memberFolder(name: string): string {
  const folder = join(root, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, '.env'), `NETWORK_KEY=${key}\nPEER_TRACKER=${tracker.address}\nPEER_HOST=127.0.0.1\n`, { mode: 0o600 });
  members.push(folder);
  return folder;
}

const peer = (args: string[], cwd: string, env = cleanEnv()) => run(PEER_BIN, args, { cwd, env });

beforeAll(async () => {
  root = tempDir('p2p-private-');
  tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db'), '--new-key']);
  // The key was printed on stdout, once, as a .env line (stdout's pipe may be read after stderr's).
  await tracker.waitFor(/^NETWORK_KEY=/);
  expect(tracker.stdout).toHaveLength(1);
  key = tracker.stdout[0]!.replace(/^NETWORK_KEY=/, '');
  expect(() => parseNetworkKey(key)).not.toThrow();
  expect(tracker.stderr.join('\n')).toContain('only peers that know the key get in. It is shown only this once.');
  for (const [name, file, content] of [['alice', 'alice.txt', 'from alice\n'], ['bob', 'bob.txt', 'from bob\n']] as const) {
    const folder = memberFolder(name);
    mkdirSync(join(folder, 'shared'));
    writeFileSync(join(folder, 'shared', file), content);
    const sharer = start(PEER_BIN, ['share', 'shared'], { cwd: folder });
    await sharer.waitFor(/^sharing /);
    sharers.push(sharer);
  }
});
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('members', () => {
  it('share and download as before, and see that the network is private and who the tracker is', async () => {
    expect(sharers[0]!.stdout[0]).toMatch(new RegExp(`^sharing 1 file \\(11 B\\) from shared on port \\d+, tracker 127\\.0\\.0\\.1:${tracker.port} \\(${tracker.identity.slice(0, 7)}, private network\\)$`));
    const carol = memberFolder('carol');
    const list = await peer(['list'], carol);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/alice\.txt\s+11 B\s+1/);
    expect(list.stdout).toMatch(/bob\.txt\s+9 B\s+1/);
    expect(list.stderr).toContain(`tracker 127.0.0.1:${tracker.port} (${tracker.identity.slice(0, 7)}, private network)\n`);
    const got = await peer(['get', 'alice.txt', '--out', 'downloads'], carol);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(carol, 'downloads', 'alice.txt'), 'utf8')).toBe('from alice\n');
  });
});

describe('one link', () => {
  it('`peer join` with the link of a private network keeps tracker and key (owner-only): the next commands need nothing else', async () => {
    const erin = join(root, 'erin');
    mkdirSync(erin, { recursive: true });
    const link = `p2p://${tracker.pinned}?key=${key}`;
    const joined = await peer(['join', link], erin);
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toBe(`joined tracker 127.0.0.1:${tracker.port} (${tracker.identity.slice(0, 7)}, private network)\n`);
    const kept = join(forChild(cleanEnv(), erin).XDG_CONFIG_HOME!, 'p2pservice', 'peer.env');
    expect(joined.stderr).toContain(`Kept in ${kept}: from now on, peer commands use this tracker with no flags`);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, 'utf8')).toContain(`PEER_TRACKER="${tracker.pinned}"\nNETWORK_KEY="${key}"\n`);
    // No .env, no flag, no discovery: what was kept is enough.
    const list = await peer(['list'], erin);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/alice\.txt\s+11 B\s+1/);
    // The link works as a tracker address too, key and all.
    const stranger = join(root, 'stranger-link');
    mkdirSync(stranger, { recursive: true });
    const direct = await peer(['list', '--tracker', link], stranger);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/bob\.txt\s+9 B\s+1/);
  });
});

describe('everyone else', () => {
  it.each([
    ['without the key', {}, /^peer: tracker 127\.0\.0\.1:\d+ refused: this network is private: the hello carried no proof of its key \(set NETWORK_KEY to the network's key: ask its operator for it\)$/],
    ['with another key', { NETWORK_KEY: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA' }, /^peer: tracker 127\.0\.0\.1:\d+ refused: wrong network key: .* \(NETWORK_KEY is not this network's key: ask its operator for it\)$/],
  ])('is refused %s: one line, exit 1, nothing listed', async (_label, extra, line) => {
    const stranger = join(root, `stranger-${Object.keys(extra).length}`);
    mkdirSync(stranger, { recursive: true });
    const result = await peer(['list', '--tracker', tracker.pinned], stranger, cleanEnv(extra));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(line);
  });

  it('keeps the key secret: a .env others can read is refused, with the fix', async () => {
    const careless = memberFolder('careless');
    chmodSync(join(careless, '.env'), 0o644);
    const result = await peer(['list'], careless);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`peer: ${join(careless, '.env')} holds NETWORK_KEY and can be read by other users (mode 644) (make it private with: chmod 600 ${join(careless, '.env')})\n`);
  });
});

describe('pinned identities', () => {
  it('refuse another tracker on the pinned or remembered address as an impostor, until it is accepted on purpose', async () => {
    const carol = join(root, 'carol');
    const port = tracker.port;
    await tracker.stop();
    // Another tracker, with another identity, on the same address.
    const impostor = start(TRACKER_BIN, ['start', '--host', '127.0.0.1', '--port', String(port), '--db', join(root, 'impostor.db')], {
      cwd: root,
      env: cleanEnv({ XDG_CONFIG_HOME: join(root, 'impostor-config'), NETWORK_KEY: key }),
    });
    const newId = JSON.parse(await impostor.waitFor(/peers connect with/)).identity as string;
    expect(newId).not.toBe(tracker.identity);

    const pinned = await peer(['list', '--tracker', tracker.pinned], carol);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toBe(
      `peer: tracker 127.0.0.1:${port} presented identity ${newId}, not the ${tracker.identity} of its address: this may be an impostor (check the address with the tracker's operator)\n`,
    );
    // carol listed before, so the address alone is held to the identity she remembers.
    const remembered = await peer(['list'], carol);
    expect(remembered.code).toBe(1);
    expect(remembered.stderr).toBe(
      `peer: tracker 127.0.0.1:${port} presented identity ${newId}, not the ${tracker.identity} it presented before: this may be an impostor (if its operator gave it a new identity on purpose, accept it by naming it once, e.g. --tracker 127.0.0.1:${port}#${newId})\n`,
    );
    const accepted = await peer(['list', '--tracker', `127.0.0.1:${port}#${newId}`], carol);
    expect(accepted.code, accepted.stderr).toBe(0);
    const after = await peer(['list'], carol);
    expect(after.code, after.stderr).toBe(0);
    await impostor.stop();
    tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db'), '--port', String(port)], cleanEnv({ NETWORK_KEY: key }));
  });

  it('refuse a peer identity key that others can read, with the fix', async () => {
    const dave = memberFolder('dave');
    mkdirSync(join(dave, 'shared'));
    const config = join(root, 'dave-config');
    const env = cleanEnv({ XDG_CONFIG_HOME: config });
    const first = start(PEER_BIN, ['share', 'shared'], { cwd: dave, env });
    await first.waitFor(/^sharing /);
    expect(first.stderr[0]).toMatch(/^peer: made a new identity for this peer, [A-Z2-7-]{63} \(kept in .*peer-identity\.pem\)$/);
    await first.stop();
    const file = join(config, 'p2pservice', 'peer-identity.pem');
    chmodSync(file, 0o640);
    const refused = await peer(['share', 'shared'], dave, env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`peer: identity key ${file} can be read by other users (mode 640) (make it private with: chmod 600 ${file})\n`);
  });
});

describe('older programs', () => {
  it('a peer pointed at a protocol-1 tracker says so in one line', async () => {
    // A protocol-1 tracker reads a TLS ClientHello as a frame length and answers FRAME_TOO_LARGE in plain.
    const old = createServer((socket) => {
      socket.once('data', () => socket.end(encodeFrame({ type: 'error', id: null, code: 'FRAME_TOO_LARGE', message: 'frame of 369295616 bytes exceeds the limit of 1048576' })));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const port = (old.address() as { port: number }).port;
    try {
      const result = await peer(['list', '--tracker', `127.0.0.1:${port}`], root);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`peer: 127.0.0.1:${port} does not speak TLS: it may run an older P2PService (protocol 1) (upgrade it: this release speaks protocol 2, always inside TLS)\n`);
    } finally {
      old.close();
    }
  });

  it('tracker start --new-key refuses to replace a key that is set', async () => {
    const result = await run(TRACKER_BIN, ['start', '--port', '0', '--new-key'], { cwd: root, env: cleanEnv({ NETWORK_KEY: key }) });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('tracker: NETWORK_KEY is already set; --new-key would replace it (remove NETWORK_KEY from .env and the environment first, or leave out --new-key)\n');
  });
});
