import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAll, PEER_BIN, removeDir, run, start, startTrackerCli, tempDir } from '@p2pservice/test-support/processes';

/* A share of 100 000 small files goes to the tracker in frame-sized chunks and comes back page by page. */

const FOLDERS = 100;
const PER_FOLDER = 1_000;

let root: string;

// Writing 100 000 files takes about 20 s here, more while other suites run beside it.
beforeAll(() => {
  root = tempDir('p2p-big-');
  for (let d = 0; d < FOLDERS; d++) {
    mkdirSync(join(root, 'share', `d${d}`), { recursive: true });
    for (let f = 0; f < PER_FOLDER; f++) writeFileSync(join(root, 'share', `d${d}`, `f${f}.txt`), `${d}/${f}`);
  }
}, 120_000);
afterAll(async () => {
  await killAll();
  removeDir(root);
});

describe('a share of 100 000 files', () => {
  it('registers completely and lists completely', { timeout: 180_000 }, async () => {
    const tracker = await startTrackerCli(root, ['--db', join(root, 'tracker.db')]);
    const env = cleanEnv({ PEER_TRACKER: tracker.address, PEER_HOST: '127.0.0.1' });
    const peer = start(PEER_BIN, ['share', join(root, 'share')], { cwd: root, env });
    await peer.waitFor(/^sharing 100000 files /, 150_000);
    const result = await run(PEER_BIN, ['list', '--json'], { cwd: root, env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const list = JSON.parse(result.stdout) as { name: string; size: number; holders: number }[];
    expect(list).toHaveLength(FOLDERS * PER_FOLDER);
    expect(new Set(list.map((e) => e.name)).size).toBe(FOLDERS * PER_FOLDER);
    expect(list.find((e) => e.name === 'd42/f999.txt')).toMatchObject({ size: Buffer.byteLength('42/999'), holders: 1 });
  });
});
