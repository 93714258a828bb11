// What tickets cost on the download path: peer get of one big file from one holder on an open network and
// on a members network (a ticket checked before each request and between the chunks of every body, and
// renewed several times during the transfer), side by side; and the ticket check alone, in process.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createIdentity, TicketChecker, TicketSigner } from '@p2pservice/protocol';
import { median, PEER_BIN, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';
import { makeFile } from './transfer.mjs';

/** Seconds a ticket lasts in this run: short, so that a transfer renews it several times. */
const TICKET_LIFETIME = 4;

export async function membersBench({ root, sizeMiB, rounds, env }) {
  const bytes = sizeMiB * 1024 * 1024;
  const share = join(root, 'members-share');
  mkdirSync(share, { recursive: true });
  makeFile(join(share, 'big.bin'), bytes);

  const processes = [];
  const start = (args, options) => {
    const p = startProcess(process.execPath, args, options);
    processes.push(p);
    return p;
  };
  /** A tracker of `kind` in its own folder; its address. */
  const tracker = async (kind) => {
    const cwd = join(root, `members-${kind}-tracker`);
    mkdirSync(cwd, { recursive: true });
    const trackerEnv = { ...env, XDG_CONFIG_HOME: join(cwd, 'config'), TICKET_LIFETIME: String(TICKET_LIFETIME) };
    const t = start([TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(cwd, 'tracker.db'), '--network', kind], { env: trackerEnv, cwd });
    const port = JSON.parse(await t.waitFor(/tracker listening/)).port;
    return { port, cwd, env: trackerEnv };
  };
  /** The environment of a peer named `name` on a tracker; a member of it (joined by invite) on a members network. */
  const peer = async (t, kind, name) => {
    const peerEnv = { ...env, XDG_CONFIG_HOME: join(root, `members-${kind}-${name}`), PEER_TRACKER: `127.0.0.1:${t.port}` };
    if (kind === 'members') {
      const { out } = await runToEnd(process.execPath, [TRACKER_BIN, 'invite', '--name', name, '--address', `127.0.0.1:${t.port}`, '--db', join(t.cwd, 'tracker.db')], { env: t.env, cwd: t.cwd });
      await runToEnd(process.execPath, [PEER_BIN, 'join', out.trim()], { env: peerEnv, cwd: root });
    }
    return peerEnv;
  };

  const networks = {};
  for (const kind of ['open', 'members']) {
    const t = await tracker(kind);
    const holder = start([PEER_BIN, 'share', share], { env: await peer(t, kind, 'holder'), cwd: root });
    await holder.waitFor(/^sharing /);
    networks[kind] = await peer(t, kind, 'downloader');
  }
  const out = join(root, 'members-out');
  const get = (kind) => async () => {
    rmSync(out, { recursive: true, force: true });
    await runToEnd(process.execPath, [PEER_BIN, 'get', 'big.bin', '--out', out], { env: networks[kind], cwd: root });
    if (statSync(join(out, 'big.bin')).size !== bytes) throw new Error(`the ${kind} download is short`);
  };
  const times = await sideBySide(rounds, { 'peer get, open network': get('open'), 'peer get, members network (tickets)': get('members') });
  for (const p of processes) await p.stop();
  rmSync(share, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });

  // The check alone: one signature check per ticket a holder takes, one time comparison per chunk.
  const identity = createIdentity('tracker');
  const member = createIdentity('member').id;
  const signer = new TicketSigner(identity);
  const checker = new TicketChecker((id) => id === identity.id);
  const tickets = Array.from({ length: 2_000 }, (_, i) => signer.issue(member, Date.now() + 60_000 + i));
  let started = performance.now();
  for (const ticket of tickets) if (checker.problem(ticket, member, Date.now()) !== undefined) throw new Error('a good ticket was refused');
  const checkMicros = ((performance.now() - started) * 1000) / tickets.length;
  started = performance.now();
  for (let i = 0; i < 2_000; i++) signer.issue(member, Date.now() + 60_000);
  const signMicros = ((performance.now() - started) * 1000) / 2_000;

  const mbps = (t) => bytes / 1e6 / median(t);
  return {
    sizeMiB,
    rounds,
    ticketLifetimeSeconds: TICKET_LIFETIME,
    secondsPerRound: times,
    mbPerSecond: Object.fromEntries(Object.entries(times).map(([name, t]) => [name, mbps(t)])),
    ratioMembersToOpen: median(times['peer get, open network']) / median(times['peer get, members network (tickets)']),
    ticketCheckMicros: checkMicros,
    ticketSignMicros: signMicros,
  };
}
