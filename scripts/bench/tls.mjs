// What TLS costs: the same 1 GiB download, through the peer's download path from a holder in another
// process, over TLS 1.3 and over plain TCP, alternating rounds in one run.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeFile } from './transfer.mjs';
import { median, REPO, runToEnd, sideBySide, startProcess } from './harness.mjs';

export async function tlsBench({ root, sizeMiB, rounds, env }) {
  const folder = join(root, 'tls-share');
  mkdirSync(folder, { recursive: true });
  makeFile(join(folder, 'big.bin'), sizeMiB * 1024 * 1024);
  const holders = {};
  for (const mode of ['tls', 'tcp']) {
    const process_ = startProcess(process.execPath, [join(REPO, 'scripts/bench/tls-holder.mjs'), mode, folder], { env, cwd: root });
    const [, port, sha256, size, id, treeRoot] = (await process_.waitFor(/^ready /, 600_000)).split(' ');
    holders[mode] = { process: process_, args: [port, sha256, size, id, treeRoot] };
  }
  const out = join(root, 'tls-out');
  const fetch = (mode) => async () => {
    rmSync(out, { recursive: true, force: true });
    await runToEnd(process.execPath, [join(REPO, 'scripts/bench/tls-fetch.mjs'), mode, ...holders[mode].args, out], { env, cwd: root });
  };
  const times = await sideBySide(rounds, { 'download over TLS 1.3': fetch('tls'), 'download over plain TCP': fetch('tcp') });
  for (const { process: p } of Object.values(holders)) await p.stop();
  rmSync(folder, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  const mibps = (t) => sizeMiB / median(t);
  return {
    sizeMiB,
    rounds,
    secondsPerRound: times,
    mibPerSecond: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mibps(v)])),
    ratioTlsToPlain: mibps(times['download over TLS 1.3']) / mibps(times['download over plain TCP']),
  };
}
