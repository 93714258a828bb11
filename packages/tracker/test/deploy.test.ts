import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '@p2pservice/test-support/processes';

/* The systemd unit README shows for running a tracker as a service. */

const unit = readFileSync(join(REPO, 'deploy/p2p-tracker.service'), 'utf8');

describe('the systemd unit', () => {
  it('keeps the database and the identity in its state folder, as its own user, with the hardening README names', () => {
    const settings = unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    expect(settings).toEqual(
      expect.arrayContaining([
        'ExecStart=/usr/bin/env tracker start',
        'StateDirectory=p2p-tracker',
        'WorkingDirectory=%S/p2p-tracker',
        'Environment=XDG_CONFIG_HOME=%S/p2p-tracker',
        'Environment=TRACKER_DB=%S/p2p-tracker/tracker.db',
        'DynamicUser=yes',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'Restart=on-failure',
      ]),
    );
  });

  it('passes systemd-analyze verify', (context) => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) return context.skip();
    const dir = mkdtempSync(join(tmpdir(), 'p2p-unit-'));
    try {
      // verify checks that the command (env) exists; `tracker` is looked up when the service starts.
      const file = join(dir, 'p2p-tracker.service');
      writeFileSync(file, unit);
      const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
