// `peer get 'many/'` (a folder of many small files) against `peer get` of one file of the same total
// size from the same holder: what the folder's per-file cost is (a who_has, holder sessions, a part, a
// commit per file), side by side, medians. The folder's files are fetched three at a time.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { median, PEER_BIN, runToEnd, sideBySide, startProcess, TRACKER_BIN } from './harness.mjs';
import { makeFile } from './transfer.mjs';

export async function folderBench({ root, files, fileKiB, rounds, env }) {
  const share = join(root, 'folder-share');
  mkdirSync(join(share, 'many'), { recursive: true });
  for (let n = 0; n < files; n++) writeFileSync(join(share, 'many', `${String(n).padStart(5, '0')}.bin`), randomBytes(fileKiB * 1024));
  makeFile(join(share, 'one.bin'), files * fileKiB * 1024);
  const tracker = startProcess(process.execPath, [TRACKER_BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--db', join(root, 'folder.db')], { env, cwd: root });
  const port = JSON.parse(await tracker.waitFor(/tracker listening/)).port;
  const peerEnv = { ...env, PEER_TRACKER: `127.0.0.1:${port}`, PEER_SERVE_DOWNLOADS: 'off' };
  const holder = startProcess(process.execPath, [PEER_BIN, 'share', share], { env: peerEnv, cwd: root });
  await holder.waitFor(/^sharing /);
  const out = join(root, 'folder-out');
  const times = await sideBySide(rounds, {
    folder: async () => {
      rmSync(out, { recursive: true, force: true });
      await runToEnd(process.execPath, [PEER_BIN, 'get', 'many/', '--out', out], { env: peerEnv, cwd: root });
    },
    'one file': async () => {
      rmSync(out, { recursive: true, force: true });
      await runToEnd(process.execPath, [PEER_BIN, 'get', 'one.bin', '--out', out], { env: peerEnv, cwd: root });
    },
  });
  await holder.stop('SIGINT');
  await tracker.stop();
  const folder = median(times.folder);
  const one = median(times['one file']);
  return { files, fileKiB, rounds, seconds: { folder, one }, filesPerSecond: files / folder, ratio: folder / one };
}
