// peer get of one big file end to end, against a bare Node pipe and (when installed) curl + nginx sendfile.
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { randomFillSync } from 'node:crypto';
import { has, median, PEER_BIN, peakRssMiB, reportedRssMiB, RSS_PRELOAD, REPO, runToEnd, sideBySide, sleep, startProcess, TRACKER_BIN } from './harness.mjs';

export function makeFile(path, bytes) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

export async function transferBench({ root, sizeMiB, rounds, env }) {
  const bytes = sizeMiB * 1024 * 1024;
  const share = join(root, 'transfer-share');
  mkdirSync(share, { recursive: true });
  const file = join(share, 'big.bin');
  makeFile(file, bytes);

  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'transfer.db')], { env, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${port}` };
  const holder = startProcess(process.execPath, [PEER_BIN, 'share', share], { env: peerEnv, cwd: root });
  await holder.waitFor(/^sharing /);
  const bare = startProcess(process.execPath, [join(REPO, 'scripts/bench/bare-pipe.mjs'), 'serve', file], { env, cwd: root });
  const barePort = Number((await bare.waitFor(/^port /)).split(' ')[1]);

  let nginx;
  let nginxPort;
  if (has('nginx') && has('curl')) {
    nginxPort = 20000 + Math.floor(Math.random() * 20000);
    const conf = join(root, 'nginx.conf');
    writeFileSync(conf, `daemon off; user root; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/nginx-error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; server { listen 127.0.0.1:${nginxPort}; root ${share}; } }`);
    nginx = startProcess('nginx', ['-c', conf, '-p', root], { cwd: root });
    await listening(nginxPort);
  }

  const out = join(root, 'transfer-out');
  const downloaderRss = [];
  const contenders = {
    'peer get': async () => {
      rmSync(out, { recursive: true, force: true });
      const { err } = await runToEnd(process.execPath, ['--require', RSS_PRELOAD, PEER_BIN, 'get', 'big.bin', '--out', out], { env: peerEnv, cwd: root });
      downloaderRss.push(reportedRssMiB(err));
    },
    'bare node pipe, 1 MiB chunks': async () => {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      await runToEnd(process.execPath, [join(REPO, 'scripts/bench/bare-pipe.mjs'), 'fetch', String(barePort), join(out, 'big.bin')], { env, cwd: root });
    },
  };
  if (nginx) {
    contenders['curl + nginx sendfile'] = async () => {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      await runToEnd('curl', ['-sf', '-o', join(out, 'big.bin'), `http://127.0.0.1:${nginxPort}/big.bin`]);
    };
  }
  const times = await sideBySide(rounds, contenders);
  // The last peer get must have produced the exact file.
  rmSync(out, { recursive: true, force: true });
  await runToEnd(process.execPath, [PEER_BIN, 'get', 'big.bin', '--out', out], { env: peerEnv, cwd: root });
  const same = statSync(join(out, 'big.bin')).size === bytes;
  const holderRss = peakRssMiB(holder.child.pid);
  for (const p of [holder, bare, tracker, nginx].filter(Boolean)) await p.stop();
  rmSync(share, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });

  const mibps = (t) => sizeMiB / median(t);
  const result = {
    sizeMiB,
    rounds,
    verified: same,
    medianSeconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
    secondsPerRound: times,
    mibPerSecond: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mibps(v)])),
    ratioToBarePipe: mibps(times['peer get']) / mibps(times['bare node pipe, 1 MiB chunks']),
    ratioToNginx: nginx ? mibps(times['peer get']) / mibps(times['curl + nginx sendfile']) : null,
    nginx: nginx ? 'installed' : 'nginx or curl not installed: comparison skipped',
    peakRssMiB: { downloader: Math.max(...downloaderRss.filter(Boolean)), holder: holderRss },
  };
  return result;
}

/** Resolves once something accepts connections on 127.0.0.1:`port` (a fixed wait was sometimes too short). */
async function listening(port, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(100);
  }
}
