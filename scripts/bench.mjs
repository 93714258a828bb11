#!/usr/bin/env node
// npm run bench: every benchmark, side by side with its yardstick in the same run (alternating rounds,
// medians, ratios). Prints a table and writes the results as JSON. Never part of `npm test`.
// Options: --only transfer,swarm,tls,indexing,tracker,hold,search,pg,ui,startup,members,party,discovery,folder,watch --rounds N --size MiB --index-size MiB
//          --party-size MiB --party-counts 4,8,16 --party-rate 20M
//          --many-files N --peers N --files-per-peer N --hold-files N --ui-peers N --samples N --out FILE
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machine } from './bench/harness.mjs';
import { holdBench } from './bench/hold.mjs';
import { indexingBench } from './bench/indexing.mjs';
import { membersBench } from './bench/members.mjs';
import { searchBench } from './bench/search.mjs';
import { pgTrackersBench } from './bench/trackers-pg.mjs';
import { startupBench } from './bench/startup.mjs';
import { tlsBench } from './bench/tls.mjs';
import { trackerScaleBench } from './bench/tracker-scale.mjs';
import { swarmBench } from './bench/swarm.mjs';
import { partyBench } from './bench/party.mjs';
import { discoveryBench } from './bench/discovery.mjs';
import { watchBench } from './bench/watch.mjs';
import { folderBench } from './bench/folder.mjs';
import { transferBench } from './bench/transfer.mjs';
import { uiBench } from './bench/ui.mjs';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'transfer,swarm,tls,indexing,tracker,hold,search,pg,ui,startup,members,party,discovery,folder,watch' },
    'folder-files': { type: 'string', default: '1000' },
    'party-size': { type: 'string', default: '1024' },
    'party-counts': { type: 'string', default: '4,8,16' },
    'party-rate': { type: 'string', default: '20M' },
    rounds: { type: 'string', default: '3' },
    size: { type: 'string', default: '1024' },
    'index-size': { type: 'string', default: '1024' },
    'many-files': { type: 'string', default: '100000' },
    'hold-files': { type: 'string', default: '100000' },
    peers: { type: 'string', default: '10000' },
    'files-per-peer': { type: 'string', default: '100' },
    'ui-peers': { type: 'string', default: '1000' },
    samples: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'bench-results.json' },
  },
});
const only = new Set(values.only.split(','));
const rounds = Number(values.rounds);
const root = mkdtempSync(join(tmpdir(), 'p2p-bench-'));
// Benchmarks stay off the LAN: no announcing, no looking (the trackers are on loopback in any case).
const env = { PATH: process.env.PATH, HOME: process.env.HOME, XDG_CACHE_HOME: join(root, 'cache'), XDG_CONFIG_HOME: join(root, 'config'), LOG_LEVEL: 'info', PEER_HOST: '127.0.0.1', TRACKER_ANNOUNCE: 'off', PEER_DISCOVER: 'off' };
const results = { date: new Date().toISOString(), machine: machine(), results: {} };
const say = (line) => process.stderr.write(`${line}\n`);

try {
  if (only.has('transfer')) {
    say(`transfer: ${values.size} MiB, ${rounds} rounds...`);
    results.results.transfer = await transferBench({ root, sizeMiB: Number(values.size), rounds, env });
  }
  if (only.has('swarm')) {
    say(`swarm: ${values.size} MiB from 1 and from 4 holders at 50 MB/s each, then with a liar, ${rounds} rounds...`);
    results.results.swarm = await swarmBench({ root, sizeMiB: Number(values.size), rounds, env });
  }
  if (only.has('tls')) {
    say(`tls: ${values.size} MiB over TLS and over plain TCP, ${rounds} rounds...`);
    results.results.tls = await tlsBench({ root, sizeMiB: Number(values.size), rounds, env });
  }
  if (only.has('indexing')) {
    say(`indexing: ${values['index-size']} MiB mixed, ${values['many-files']} small files, ${rounds} rounds...`);
    results.results.indexing = await indexingBench({ root, sizeMiB: Number(values['index-size']), manyFiles: Number(values['many-files']), rounds, env });
  }
  if (only.has('tracker')) {
    say(`tracker: ${values.peers} peers x ${values['files-per-peer']} files, ${Math.min(rounds, 2)} rounds...`);
    results.results.tracker = await trackerScaleBench({ root, peers: Number(values.peers), perPeer: Number(values['files-per-peer']), rounds: Math.min(rounds, 2), samples: Number(values.samples), env });
  }
  if (only.has('hold')) {
    say(`hold: a share of ${values['hold-files']} files registered, replaced and gone, while another peer pings...`);
    results.results.hold = await holdBench({ root, files: Number(values['hold-files']), env });
  }
  if (only.has('search')) {
    say(`search: ${values.peers} peers x ${values['files-per-peer']} generated music files, ${Math.min(rounds, 2)} rounds...`);
    results.results.search = await searchBench({ root, peers: Number(values.peers), perPeer: Number(values['files-per-peer']), rounds: Math.min(rounds, 2), samples: Math.min(Number(values.samples), 200), env });
  }
  if (only.has('pg')) {
    say(`pg: ${values.peers} peers x ${values['files-per-peer']} generated music files over 3 trackers on PostgreSQL, against bare pg and one SQLite tracker...`);
    results.results.pg = await pgTrackersBench({ root, peers: Number(values.peers), perPeer: Number(values['files-per-peer']), samples: Math.min(Number(values.samples), 1000), env });
  }
  if (only.has('ui')) {
    say(`ui: ${values['ui-peers']} peers x ${values['files-per-peer']} generated music files, peer ui in headless Chromium...`);
    results.results.ui = await uiBench({ root, peers: Number(values['ui-peers']), perPeer: Number(values['files-per-peer']), loads: 30, samples: Math.min(Number(values.samples), 30), env });
  }
  if (only.has('startup')) {
    say('startup: 10 rounds...');
    results.results.startup = await startupBench({ root, rounds: 10, env });
  }
  if (only.has('party')) {
    say(`party: ${values['party-size']} MiB, a seed at ${values['party-rate']}B/s, ${values['party-counts']} downloaders...`);
    const counts = values['party-counts'].split(',').map(Number);
    results.results.party = await partyBench({ root, sizeMiB: Number(values['party-size']), counts, rate: values['party-rate'], env });
  }
  if (only.has('discovery')) {
    say('discovery: peer list finding the tracker on the LAN, against the address given, 10 rounds, in a network namespace...');
    results.results.discovery = await discoveryBench({ root, rounds: 10, env });
  }
  if (only.has('folder')) {
    say(`folder: ${values['folder-files']} files of 64 KiB with peer get 'many/', against one file of the same size, ${rounds} rounds...`);
    results.results.folder = await folderBench({ root, files: Number(values['folder-files']), fileKiB: 64, rounds, env });
  }
  if (only.has('watch')) {
    say(`watch: 100 000 registered files matched against 20 000 watched searches, against storing them, ${rounds} rounds...`);
    results.results.watch = await watchBench({ root, rounds });
  }
  if (only.has('members')) {
    say(`members: ${values.size} MiB from one holder, open network and members network (tickets), ${rounds} rounds...`);
    results.results.members = await membersBench({ root, sizeMiB: Number(values.size), rounds, env });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const f = (n, digits = 0) => (n === null || n === undefined ? 'n/a' : n.toFixed(digits));
const rows = [];
const goal = (ok) => (ok ? 'met' : 'NOT met');
const { transfer, swarm, tls, indexing, tracker, hold, search, pg, ui, startup, members, party, discovery, folder, watch } = results.results;
if (watch) {
  rows.push(['watch', `storing ${watch.files} files (SqliteStore, 2 000 a share)`, `${f(watch.storeFilesPerSecond)} files/s`, '']);
  rows.push(['watch', `matching them against ${watch.watches} watches`, `${f(watch.matchFilesPerSecond)} files/s`, '']);
  rows.push(['watch', 'matching / storing (time)', f(watch.matchToStore, 2), '']);
  rows.push(['watch', 'every watch on every file (the simple way)', `${f(watch.bruteFilesPerSecond, 1)} files/s`, '']);
  rows.push(['watch', 'longest event-loop stall while matching', `${f(watch.maxStallMs)} ms`, `< 50 ms: ${goal(watch.maxStallMs < 50)}`]);
  rows.push(['watch', 'one want searched for instead (polling)', `${f(watch.searchMs, 1)} ms`, '']);
  rows.push(['watch', `polling ${watch.watches} wants once a minute`, `${f(watch.pollingSecondsPerMinute)} s a minute`, '']);
  rows.push(['watch', 'files registered a minute that cost as much', `${f(watch.breakEvenFilesPerMinute)}`, `> 100 000: ${goal(watch.breakEvenFilesPerMinute > 100_000)}`]);
  rows.push(['watch', 'notices (files told)', `${watch.notices} (${watch.filesTold})`, '']);
}
if (folder) {
  rows.push([`folder ${folder.files} x ${folder.fileKiB} KiB`, "peer get 'many/'", `${f(folder.seconds.folder, 2)} s (${f(folder.filesPerSecond)} files/s)`, '']);
  rows.push([`folder ${folder.files} x ${folder.fileKiB} KiB`, 'peer get of one file that size', `${f(folder.seconds.one, 2)} s`, '']);
  rows.push([`folder ${folder.files} x ${folder.fileKiB} KiB`, 'folder / one file', f(folder.ratio, 2), `<= 3: ${goal(folder.ratio <= 3)}`]);
}
if (discovery?.skipped) rows.push(['discovery', 'skipped', discovery.skipped, '']);
else if (discovery) {
  rows.push(['discovery', 'peer list, tracker found on the LAN', `${f(discovery.medianMs.found)} ms`, '']);
  rows.push(['discovery', 'peer list --tracker ADDRESS#ID', `${f(discovery.medianMs.given)} ms`, '']);
  rows.push(['discovery', 'added by looking on the LAN', `${f(discovery.addedMs)} ms`, `< 1000 ms: ${goal(discovery.addedMs < 1000)}`]);
  rows.push(['discovery', 'peer list when nobody answers', `${f(discovery.noneAnsweringMs)} ms`, '']);
}
if (party) {
  rows.push([`party ${party.sizeMiB} MiB`, `one downloader alone, seed at ${party.rate}B/s`, `${f(party.aloneSeconds, 1)} s`, '']);
  for (const run of party.runs) {
    const label = `${run.downloaders} downloaders at once`;
    rows.push([`party ${party.sizeMiB} MiB`, `${label}: slowest / alone`, `${f(run.slowestSeconds, 1)} s (${f(run.ratioToAlone, 2)}x; fastest ${f(run.fastestSeconds, 1)} s)`, run.downloaders === 8 ? `<= 1.5x: ${goal(run.ratioToAlone <= 1.5)}` : '']);
    rows.push([`party ${party.sizeMiB} MiB`, `${label}: seed upload / file`, `${f(run.seedUploadFiles, 2)} (discarded ${f(run.discardedMiB)} MiB)`, run.downloaders === 8 ? `<= 1.3: ${goal(run.seedUploadFiles <= 1.3)}` : '']);
  }
}
if (transfer) {
  for (const [name, rate] of Object.entries(transfer.mibPerSecond)) rows.push([`transfer ${transfer.sizeMiB} MiB`, name, `${f(rate)} MiB/s`, '']);
  rows.push(['transfer', 'peer get / bare TLS 1.3 pipe', f(transfer.ratioToTlsPipe, 2), `>= 0.90: ${goal(transfer.ratioToTlsPipe >= 0.9)}`]);
  rows.push(['transfer', 'peer get / curl+nginx HTTPS', transfer.ratioToNginxHttps === null ? transfer.nginx : f(transfer.ratioToNginxHttps, 2), transfer.ratioToNginxHttps === null ? '' : `>= 0.80: ${goal(transfer.ratioToNginxHttps >= 0.8)}`]);
  rows.push(['transfer', 'peer get / bare TLS pipe + fsync (reference)', f(transfer.ratioToTlsPipeFsync, 2), '']);
  rows.push(['transfer', 'peer get / bare pipe without TLS (reference)', f(transfer.ratioToBarePipe, 2), '']);
  const { peerGet, tlsPipe } = transfer.cpuSecondsPerGiB;
  rows.push(['transfer', 'CPU s per GiB, both ends: peer get / TLS pipe', `${f(peerGet, 2)} / ${f(tlsPipe, 2)} s (${f(peerGet / tlsPipe, 2)}x)`, `<= 1.5x: ${goal(peerGet / tlsPipe <= 1.5)}`]);
  rows.push(['transfer', 'peak RSS downloader / holder', `${f(transfer.peakRssMiB.downloader)} / ${f(transfer.peakRssMiB.holder)} MiB`, `downloader < 100 MB: ${goal(transfer.peakRssMiB.downloader * 1.048576 < 100)}`]);
}
if (swarm) {
  const label = `swarm ${swarm.sizeMiB} MiB`;
  rows.push([label, `one holder at ${swarm.uploadRateMBps} MB/s`, `${f(swarm.mbPerSecond.one)} MB/s`, '']);
  rows.push([label, `4 holders at ${swarm.uploadRateMBps} MB/s each`, `${f(swarm.mbPerSecond.four)} MB/s`, '']);
  rows.push(['swarm', '4 holders / 1', f(swarm.speedup, 2), `>= 3.50: ${goal(swarm.speedup >= 3.5)}`]);
  rows.push(['swarm', '3 honest + 1 lying on every piece', `${f(swarm.mbPerSecond.withLiar)} MB/s`, `completes, liar named: ${goal(swarm.liar.completedEveryRound && swarm.liar.namedEveryRound)}`]);
  rows.push(['swarm', 'bytes thrown away with the liar / without (piece size)', `${f(swarm.liar.discardedBytesPerRound / 1024)} / ${f(swarm.liar.discardedBytesWithoutLiar / 1024)} KiB (${f(swarm.liar.pieceBytes / 1024)} KiB)`, `a few pieces: ${goal(swarm.liar.discardedBytesPerRound <= 4 * swarm.liar.pieceBytes)}`]);
  rows.push(['swarm', 'bytes the liar wrote to its socket per download', `${f(swarm.liar.bytesItSentPerRound / 1024)} KiB`, '']);
}
if (tls) {
  for (const [name, rate] of Object.entries(tls.mibPerSecond)) rows.push([`tls ${tls.sizeMiB} MiB`, name, `${f(rate)} MiB/s`, '']);
  rows.push(['tls', 'TLS / plain TCP', f(tls.ratioTlsToPlain, 2), `>= 0.85: ${goal(tls.ratioTlsToPlain >= 0.85)}`]);
}
if (indexing) {
  for (const [name, rate] of Object.entries(indexing.mibPerSecond)) rows.push([`indexing ${indexing.sizeMiB} MiB (${indexing.files} files)`, name, `${f(rate)} MiB/s`, '']);
  rows.push(['indexing', 'peer share / sha256sum', f(indexing.ratioToSha256sum, 2), `>= 0.90: ${goal(indexing.ratioToSha256sum >= 0.9)}`]);
  rows.push(['indexing', 'peer share / sha256 only (before piece trees)', f(indexing.ratioToShaOnly, 2), `>= 0.90: ${goal(indexing.ratioToShaOnly >= 0.9)}`]);
  rows.push(['indexing', `re-share ${indexing.warmReshare.files} unchanged files`, `${f(indexing.warmReshare.medianSeconds, 2)} s`, `< 2 s: ${goal(indexing.warmReshare.medianSeconds < 2)}`]);
}
if (tracker) {
  for (const [name, rate] of Object.entries(tracker.rowsPerSecond)) rows.push([`tracker ${tracker.peers} peers x ${tracker.filesPerPeer}`, name, `${f(rate)} rows/s`, '']);
  rows.push(['tracker', `tracker CPU per joining peer (${tracker.filesPerPeer} files)`, `${f(tracker.trackerCpuMsPerPeer, 2)} ms`, '']);
  rows.push(['tracker', 'sockets / bare inserts', f(tracker.ratioToBareInserts, 2), `>= 0.50: ${goal(tracker.ratioToBareInserts >= 0.5)}`]);
  rows.push(['tracker', `list page p50 / p99 (${tracker.rows} files)`, `${f(tracker.listPageMs.p50, 1)} / ${f(tracker.listPageMs.p99, 1)} ms`, `p99 < 20 ms: ${goal(tracker.listPageMs.p99 < 20)}`]);
  rows.push(['tracker', 'who-has p50 / p99', `${f(tracker.whoHasMs.p50, 1)} / ${f(tracker.whoHasMs.p99, 1)} ms`, `p99 < 20 ms: ${goal(tracker.whoHasMs.p99 < 20)}`]);
  rows.push(['tracker', 'peak RSS', `${f(tracker.trackerPeakRssMiB)} MiB`, `< 1 GiB: ${goal(tracker.trackerPeakRssMiB < 1024)}`]);
}
if (hold) {
  for (const [kind, run] of [['typical', hold.typicalNames], ['long', hold.longNames]]) {
    const label = `hold ${hold.files} files, ${kind} names (${run.nameBytes} B)`;
    rows.push([label, 'register / replace half / leave', `${f(run.registerSeconds, 1)} / ${f(run.replaceSeconds, 1)} / ${f(run.leaveSeconds, 1)} s`, '']);
    rows.push([label, `another peer's ping p50 / p99 / max (${run.pingMs.count} pings)`, `${f(run.pingMs.p50, 1)} / ${f(run.pingMs.p99, 1)} / ${f(run.pingMs.max)} ms`, `p99 < 50 ms: ${goal(run.pingMs.p99 < 50)}`]);
    rows.push([label, `connections dropped (of ${hold.idlePeers}), lease lost`, `${run.dropped}, ${run.leaseLost ? 'yes' : 'no'}`, `none: ${goal(run.dropped === 0 && !run.leaseLost)}`]);
  }
  rows.push(['hold', 'bare better-sqlite3: the typical share in one transaction (a ping waited that long before)', `${f(hold.bareOneTransactionSeconds, 2)} s`, '']);
}
if (search) {
  const label = `search ${search.peers} peers x ${search.filesPerPeer}`;
  rows.push([label, `network: ${search.rows} file rows, ${search.distinctContents} distinct contents`, '', '']);
  for (const [name, rate] of Object.entries(search.rowsPerSecond)) rows.push([label, `register ${name}`, `${f(rate)} rows/s`, '']);
  rows.push(['search', 'registration with index / without', f(search.ratioWithIndex, 2), `>= 0.80: ${goal(search.ratioWithIndex >= 0.8)}`]);
  rows.push(['search', 'database without / with index', `${f(search.databaseMiB.withoutIndexMiB)} / ${f(search.databaseMiB.withIndexMiB)} MiB`, '']);
  for (const [what, t] of Object.entries(search.searchMs)) {
    rows.push(['search', `${what} "${t.query}" p50 / p99 (LIKE scan, names with 1st word)`, `${f(t.p50, 1)} / ${f(t.p99, 1)} ms (${f(search.likeScanMs[what])} ms, ${search.firstWordMatches[what]})`, `p99 < 20 ms: ${goal(t.p99 < 20)}`]);
  }
  rows.push(['search', 'tracker peak RSS', `${f(search.trackerPeakRssMiB)} MiB`, `< 1 GiB: ${goal(search.trackerPeakRssMiB < 1024)}`]);
}
if (pg) {
  const label = `pg ${pg.peers} peers x ${pg.filesPerPeer}`;
  rows.push([label, `network: ${pg.rows} file rows, ${pg.distinctContents} distinct contents`, '', '']);
  for (const [name, rate] of Object.entries(pg.rowsPerSecond)) rows.push([label, `register ${name}`, `${f(rate)} rows/s`, '']);
  rows.push(['pg', `${pg.trackers} trackers over TLS / bare pg`, f(pg.ratioToBarePg, 2), `>= 0.50: ${goal(pg.ratioToBarePg >= 0.5)}`]);
  rows.push(['pg', 'PgStore in process / bare pg', f(pg.storeRatioToBarePg, 2), '']);
  for (const [engine, l] of Object.entries(pg.latencyMs)) {
    rows.push(['pg', `${engine}: list page p50 / p99`, `${f(l.listPage.p50, 1)} / ${f(l.listPage.p99, 1)} ms`, `p99 < 20 ms: ${goal(l.listPage.p99 < 20)}`]);
    rows.push(['pg', `${engine}: who-has p50 / p99`, `${f(l.whoHas.p50, 1)} / ${f(l.whoHas.p99, 1)} ms`, `p99 < 20 ms: ${goal(l.whoHas.p99 < 20)}`]);
    for (const [what, t] of Object.entries(l.search)) rows.push(['pg', `${engine}: search ${what} "${t.query}" p50 / p99`, `${f(t.p50, 1)} / ${f(t.p99, 1)} ms`, `p99 < 20 ms: ${goal(t.p99 < 20)}`]);
  }
  const failover = Math.max(pg.failover.allRegisteredElsewhereSeconds, pg.failover.staleRowsGoneSeconds);
  rows.push(['pg', `SIGKILL of 1 tracker: ${pg.failover.peersMoved} peers registered elsewhere / its rows gone`, `${f(pg.failover.allRegisteredElsewhereSeconds, 1)} / ${f(pg.failover.staleRowsGoneSeconds, 1)} s`, `<= lease + 5 s (${pg.leaseSeconds + 5} s): ${goal(failover <= pg.leaseSeconds + 5)}`]);
  rows.push(['pg', 'file rows / peers after the failover (of)', `${pg.failover.fileRowsAfter} / ${pg.failover.peersAfter} (${pg.failover.fileRowsExpected} / ${pg.peers})`, '']);
  rows.push(['pg', 'what the trackers warned about meanwhile', pg.trackerWarnings.length === 0 ? 'nothing' : pg.trackerWarnings.join('; '), '']);
  rows.push(['pg', 'peak RSS per PostgreSQL tracker / SQLite tracker', `${pg.trackerPeakRssMiB.postgres.map((r) => f(r)).join(', ')} / ${f(pg.trackerPeakRssMiB.sqlite)} MiB`, '']);
}
if (ui?.skipped) rows.push(['ui', 'not measured', ui.skipped, '']);
else if (ui) {
  const label = `ui ${ui.peers} peers x ${ui.filesPerPeer}`;
  rows.push([label, `network: ${ui.rows} file rows; ${ui.chromium}`, '', '']);
  rows.push(['ui', `first screen listed, p50 / p95 of ${ui.loads} cold loads (static copy from bare node:http)`, `${f(ui.pageLoadMs.p50)} / ${f(ui.pageLoadMs.p95)} ms (${f(ui.staticPageLoadMs.p50)} / ${f(ui.staticPageLoadMs.p95)} ms)`, `p95 < 300 ms: ${goal(ui.pageLoadMs.p95 < 300)}`]);
  rows.push(['ui', `tracker list page of 100 on an open session p50 / p95`, `${f(ui.trackerListPageMs.p50, 1)} / ${f(ui.trackerListPageMs.p95, 1)} ms`, '']);
  for (const [what, t] of Object.entries(ui.searchMs)) {
    rows.push(['ui', `search ${what} "${t.query}" Enter to rows p50 / p99 (HTTP request alone; tracker request alone)`, `${f(t.page.p50)} / ${f(t.page.p99)} ms (${f(t.httpRequest.p50)} / ${f(t.httpRequest.p99)}; ${f(t.trackerRequest.p50)} / ${f(t.trackerRequest.p99)} ms), ${t.rowsShown} rows`, `p99 < 100 ms: ${goal(t.page.p99 < 100)}`]);
  }
}
if (startup) {
  rows.push(['startup', 'peer list / node -e 0', `${f(startup.medianMs['peer list'])} / ${f(startup.medianMs['node -e 0'])} ms`, `< 300 ms: ${goal(startup.medianMs['peer list'] < 300)}`]);
}
if (members) {
  const label = `members ${members.sizeMiB} MiB`;
  for (const [name, rate] of Object.entries(members.mbPerSecond)) rows.push([label, name, `${f(rate)} MB/s`, '']);
  rows.push(['members', `members / open (tickets of ${members.ticketLifetimeSeconds} s, renewed during the transfer)`, f(members.ratioMembersToOpen, 2), `>= 0.95 (not measurable): ${goal(members.ratioMembersToOpen >= 0.95)}`]);
  rows.push(['members', 'one ticket checked (signature) / signed', `${f(members.ticketCheckMicros)} / ${f(members.ticketSignMicros)} µs`, '']);
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 4));
const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const m = results.machine;
process.stdout.write(`${m.cpu}, ${m.nproc} cores, ${m.memoryGiB} GiB, Node ${m.node}\n\n`);
process.stdout.write(`${line(['benchmark', 'what', 'result', 'goal'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nresults written to ${values.out}\n`);
