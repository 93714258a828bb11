// peer get of one big file end to end, against a bare Node TLS 1.3 pipe and (when installed) curl + nginx over
// HTTPS, with the same two without TLS for reference.
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { randomFillSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpuSeconds, has, median, PEER_BIN, peakRssMiB, reportedRssMiB, RSS_PRELOAD, REPO, runToEnd, sideBySide, sleep, startProcess, TRACKER_BIN } from './harness.mjs';

export function makeFile(path, bytes) {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

/** CPU seconds printed at exit by a process started with the report-rss preload. */
function reportedCpuSeconds(stderr) {
  const match = /^BENCH_CPU_US=(\d+)$/m.exec(stderr);
  return match ? Number(match[1]) / 1e6 : undefined;
}

/** A self-signed certificate for the yardsticks' TLS servers (nginx and the bare TLS pipe). */
function selfSignedCertificate(root) {
  const cert = join(root, 'yardstick-cert.pem');
  const key = join(root, 'yardstick-key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert]);
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  return { cert, key };
}

const PEER_GET = 'peer get';
const TLS_PIPE = 'bare node TLS 1.3 pipe, 1 MiB chunks';
const NGINX_HTTPS = 'curl + nginx HTTPS (TLS 1.3)';
const TLS_PIPE_FSYNC = 'bare node TLS 1.3 pipe + fsync (reference)';
const PLAIN_PIPE = 'bare node pipe, 1 MiB chunks (no TLS)';
const NGINX_HTTP = 'curl + nginx HTTP (no TLS)';

export async function transferBench({ root, sizeMiB, rounds, env }) {
  const bytes = sizeMiB * 1024 * 1024;
  const share = join(root, 'transfer-share');
  mkdirSync(share, { recursive: true });
  const file = join(share, 'big.bin');
  makeFile(file, bytes);
  const { cert, key } = selfSignedCertificate(root);

  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'transfer.db')], { env, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${port}` };
  const holder = startProcess(process.execPath, [PEER_BIN, 'share', share], { env: peerEnv, cwd: root });
  await holder.waitFor(/^sharing /);
  const pipeServer = async (...args) => {
    const server = startProcess(process.execPath, [join(REPO, 'scripts/bench/bare-pipe.mjs'), 'serve', file, ...args], { env, cwd: root });
    return { server, port: Number((await server.waitFor(/^port /)).split(' ')[1]) };
  };
  const bare = await pipeServer();
  const bareTls = await pipeServer('tls', cert, key);

  let nginx;
  let nginxPort;
  if (has('nginx') && has('curl')) {
    nginxPort = 20000 + Math.floor(Math.random() * 20000);
    const conf = join(root, 'nginx.conf');
    writeFileSync(conf, `daemon off; user root; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/nginx-error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on;
  server { listen 127.0.0.1:${nginxPort}; root ${share}; }
  server { listen 127.0.0.1:${nginxPort + 1} ssl; ssl_protocols TLSv1.3; ssl_certificate ${cert}; ssl_certificate_key ${key}; root ${share}; }
}`);
    nginx = startProcess('nginx', ['-c', conf, '-p', root], { cwd: root });
    await listening(nginxPort);
    await listening(nginxPort + 1);
  }

  const out = join(root, 'transfer-out');
  // Every contender starts with nothing of the others' left to write back to the disk.
  const fresh = () => {
    rmSync(out, { recursive: true, force: true });
    spawnSync('sync');
    mkdirSync(out);
  };
  const downloaderRss = [];
  /** CPU seconds per round of both ends, where we can measure them: the downloader's and the server's. */
  const cpu = { [PEER_GET]: [], [TLS_PIPE]: [] };
  const node = (args, serverPid, name) => async () => {
    const before = cpuSeconds(serverPid);
    const { err } = await runToEnd(process.execPath, ['--require', RSS_PRELOAD, ...args], { env: name === PEER_GET ? peerEnv : env, cwd: root });
    if (name === PEER_GET) downloaderRss.push(reportedRssMiB(err));
    cpu[name]?.push(reportedCpuSeconds(err) + cpuSeconds(serverPid) - before);
  };
  const contenders = {
    [PEER_GET]: async () => {
      rmSync(out, { recursive: true, force: true });
      spawnSync('sync');
      await node([PEER_BIN, 'get', 'big.bin', '--out', out], holder.child.pid, PEER_GET)();
    },
    [TLS_PIPE]: async () => {
      fresh();
      await node([join(REPO, 'scripts/bench/bare-pipe.mjs'), 'fetch', String(bareTls.port), join(out, 'big.bin'), 'tls'], bareTls.server.child.pid, TLS_PIPE)();
    },
    [TLS_PIPE_FSYNC]: async () => {
      fresh();
      await node([join(REPO, 'scripts/bench/bare-pipe.mjs'), 'fetch', String(bareTls.port), join(out, 'big.bin'), 'tls', 'fsync'], bareTls.server.child.pid, TLS_PIPE_FSYNC)();
    },
    [PLAIN_PIPE]: async () => {
      fresh();
      await node([join(REPO, 'scripts/bench/bare-pipe.mjs'), 'fetch', String(bare.port), join(out, 'big.bin')], bare.server.child.pid, PLAIN_PIPE)();
    },
  };
  if (nginx) {
    contenders[NGINX_HTTPS] = async () => {
      fresh();
      await runToEnd('curl', ['-sfk', '--tlsv1.3', '-o', join(out, 'big.bin'), `https://127.0.0.1:${nginxPort + 1}/big.bin`]);
    };
    contenders[NGINX_HTTP] = async () => {
      fresh();
      await runToEnd('curl', ['-sf', '-o', join(out, 'big.bin'), `http://127.0.0.1:${nginxPort}/big.bin`]);
    };
  }
  const times = await sideBySide(rounds, contenders);
  // The last peer get must have produced the exact file.
  rmSync(out, { recursive: true, force: true });
  await runToEnd(process.execPath, [PEER_BIN, 'get', 'big.bin', '--out', out], { env: peerEnv, cwd: root });
  const same = statSync(join(out, 'big.bin')).size === bytes;
  const holderRss = peakRssMiB(holder.child.pid);
  for (const p of [holder, bare.server, bareTls.server, tracker, nginx].filter(Boolean)) await p.stop();
  rmSync(share, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });

  const mibps = (t) => sizeMiB / median(t);
  const cpuPerGiB = (name) => (median(cpu[name]) * 1024) / sizeMiB;
  return {
    sizeMiB,
    rounds,
    verified: same,
    medianSeconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
    secondsPerRound: times,
    mibPerSecond: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mibps(v)])),
    ratioToTlsPipe: mibps(times[PEER_GET]) / mibps(times[TLS_PIPE]),
    ratioToNginxHttps: nginx ? mibps(times[PEER_GET]) / mibps(times[NGINX_HTTPS]) : null,
    ratioToBarePipe: mibps(times[PEER_GET]) / mibps(times[PLAIN_PIPE]),
    ratioToTlsPipeFsync: mibps(times[PEER_GET]) / mibps(times[TLS_PIPE_FSYNC]),
    nginx: nginx ? 'installed' : 'nginx or curl not installed: comparison skipped',
    cpuSecondsPerRound: cpu,
    cpuSecondsPerGiB: { peerGet: cpuPerGiB(PEER_GET), tlsPipe: cpuPerGiB(TLS_PIPE) },
    peakRssMiB: { downloader: Math.max(...downloaderRss.filter(Boolean)), holder: holderRss },
  };
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
