import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '@p2pservice/protocol';
import { displayWidth, formatBytes, formatTable } from '../src/face/format.js';
import { loadPeerSettings, PEER_SETTINGS } from '../src/settings/table.js';
import { PEER_BIN, REPO, run } from '@p2pservice/test-support/processes';

describe('peer settings', () => {
  it('are all in `peer --help`, with their defaults', async () => {
    const help = await run(PEER_BIN, ['--help'], { cwd: REPO });
    expect(help.code).toBe(0);
    for (const { env, default: value } of Object.values(PEER_SETTINGS)) expect(help.stdout, env).toContain(`  ${env}=${value === '' ? '(empty)' : value}  `);
  });

  it('complete in bash: commands, each command\'s options, shells, folders for share', async () => {
    const script = await run(PEER_BIN, ['completion', 'bash'], { cwd: REPO });
    expect(script.code).toBe(0);
    const complete = (line: string) =>
      spawnSync('bash', ['-c', `${script.stdout}\nread -ra COMP_WORDS <<< "$LINE"; COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _peer_completion; echo "\${COMPREPLY[*]}"`], { cwd: REPO, env: { LINE: line, PATH: process.env.PATH }, encoding: 'utf8' }).stdout.trim();
    expect(complete('peer s')).toBe('share search');
    expect(complete('peer get --j')).toBe('--json');
    expect(complete('peer ui --ui')).toBe('--ui-port --ui-host');
    expect(complete('peer completion z')).toBe('zsh');
    expect(complete('peer share packa')).toBe('packages');
    const fish = await run(PEER_BIN, ['completion', 'fish'], { cwd: REPO });
    expect([fish.code, fish.stderr]).toEqual([2, 'peer: no completion for shell "fish" (bash or zsh)\n']);
  });

  it('take a flag over the environment over .env over defaults, and refuse bad values naming the key or flag', () => {
    const load = (env: Record<string, string>, dotenv: Record<string, string>, flags: Record<string, unknown> = {}) => loadPeerSettings({ env, dotenv, flags, flagHint: 'see `peer share --help`' });
    expect(load({}, {}).tracker).toBeUndefined();
    expect(load({}, { PEER_TRACKER: 'h:1' }).tracker).toBe('h:1');
    expect(load({ PEER_TRACKER: 'e:2' }, { PEER_TRACKER: 'h:1' }).tracker).toBe('e:2');
    expect(load({ PEER_TRACKER: 'e:2' }, {}, { tracker: 'f:3' }).tracker).toBe('f:3');
    expect(load({ PEER_PORT: '' }, { PEER_PORT: '4000' }).port).toBe(4000);
    expect(load({}, {}, { port: '5000', json: true }).port).toBe(5000);
    expect(load({}, {}).maxUploadRate).toBeUndefined();
    expect(load({ PEER_MAX_UPLOAD_RATE: '1.5Ki', STALL_TIMEOUT: '2.5' }, {})).toMatchObject({ maxUploadRate: 1536, stallTimeoutMs: 2500 });
    expect(() => load({ PEER_PORT: '70000' }, {})).toThrow(/^invalid setting PEER_PORT: /);
    expect(() => load({ PEER_MAX_UPLOADS: '0' }, {})).toThrow(/PEER_MAX_UPLOADS/);
    expect(() => load({}, {}, { port: 'seventy' })).toThrow(/^invalid flag --port: /);
    // A bad .env is found even where a flag wins over it.
    expect(() => load({}, { PEER_PORT: 'x' }, { port: '1' })).toThrow(/^invalid setting PEER_PORT: /);
  });
});

describe('output helpers', () => {
  it('formats sizes for humans', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 * 1024, 6 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '10 MiB', '6.0 GiB']);
  });

  it('lines up table columns for wide (CJK, emoji) and combining characters', () => {
    expect(['abc', '名前', '🎵x', 'e\u0301'].map(displayWidth)).toEqual([3, 4, 3, 1]);
    const table = formatTable(['NAME', 'SIZE'], [['名前.txt', '9 B'], ['plain.txt', '10 B']], new Set([1]));
    expect(table.split('\n')).toEqual(['NAME       SIZE', '名前.txt    9 B', 'plain.txt  10 B']);
  });

  it('escapes control and bidi characters before anything reaches a terminal', () => {
    expect(terminalSafe('a\u001b[2Jb\u202ec\n')).toBe('a\\u{1b}[2Jb\\u{202e}c\\u{a}');
  });
});
