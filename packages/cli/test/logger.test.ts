import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { logFormat } from '../src/index.js';

const CLI = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Logs one event through cliLogger in a process of its own (it writes to fd 2); returns stderr. */
function logInChild(format: 'json' | 'pretty', colour: boolean): string {
  const script = `
    const { cliLogger } = await import(${JSON.stringify(CLI)});
    const log = cliLogger('tracker', 'info', ${JSON.stringify(format)}, ${colour});
    log.info({ file: 'evil\\u001b]0;pwned\\u0007.txt', remote: '10.0.0.1:5' }, 'peer sent \\u001b[2Jthis');
    log.debug('hidden at info');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return child.stderr;
}

describe('the CLIs\' logger', () => {
  it('writes pino JSON lines when asked for json', () => {
    const lines = logInChild('json', false).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, name: 'tracker', msg: 'peer sent \u001b[2Jthis', file: 'evil\u001b]0;pwned\u0007.txt' });
  });

  it('writes one readable line per event, every control character from the data escaped', () => {
    const text = logInChild('pretty', false);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: peer sent \\u\{1b\}\[2Jthis \{"file":"evil\\u\{1b\}\]0;pwned\\u\{7\}\.txt","remote":"10\.0\.0\.1:5"\}\n$/);
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u0007');
  });

  it('colours only its own parts', () => {
    const text = logInChild('pretty', true);
    expect(text).toContain('\u001b[32mINFO\u001b[39m');
    expect(text).toContain('\\u{1b}[2J');
    expect(text).not.toContain('\u001b[2J');
  });

  it('is readable on a terminal and JSON anywhere else, unless LOG_FORMAT says', () => {
    expect(logFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(logFormat(undefined, { isTTY: false })).toBe('json');
    expect(logFormat(undefined, {})).toBe('json');
    expect(logFormat('json', { isTTY: true })).toBe('json');
    expect(logFormat('pretty', { isTTY: false })).toBe('pretty');
  });
});
