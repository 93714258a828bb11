import { type ChildProcess, spawn } from 'node:child_process';
import { forChild } from './processes.js';

/*
 * A CLI on a real pseudo-terminal, as a person at a keyboard runs it: util-linux's `script` gives it a
 * pty (stdin, stdout and stderr all a terminal), whose line discipline turns a typed Ctrl-C into SIGINT
 * for the program, exactly as a terminal emulator's does. What the program writes comes back as one
 * stream (progress lines, escape codes and all).
 */

export interface OnTerminal {
  child: ChildProcess;
  /** Everything written to the terminal so far. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects if the program exits first or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** Types `keys` (e.g. '\x03', Ctrl-C). */
  type(keys: string): void;
  /** The program's exit code, once it has exited. */
  exited: Promise<number | null>;
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

export function startOnTerminal(bin: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): OnTerminal {
  // exec: the program itself is the terminal's foreground process, as under a person's shell (a shell
  // left waiting in between would take the Ctrl-C as its own and exit 130 whatever the program did).
  const command = `exec ${[process.execPath, bin, ...args].map(quote).join(' ')}`;
  // -e: script exits with the program's code; -f: output as it comes; the typescript goes nowhere.
  // Its identity and known trackers in a config folder of its working folder's own, as for every child of
  // the tests (processes.ts): never the home folder's, where another test's tracker may have been met on
  // the same port under another identity.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: options.cwd, env: { ...forChild(options.env, options.cwd), SHELL: '/bin/sh' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  started.add(child);
  void exited.then(() => started.delete(child));
  return {
    child,
    output: () => text,
    waitFor(pattern, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for ${pattern}; the terminal shows: ${JSON.stringify(text.slice(-500))}`));
        }, ms);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then((code) => {
          if (!waiters.has(check)) return;
          finish();
          if (pattern.test(text)) resolve();
          else reject(new Error(`exited (${code}) before ${pattern}; the terminal shows: ${JSON.stringify(text.slice(-500))}`));
        });
        check();
      });
    },
    type: (keys) => child.stdin!.write(keys),
    exited,
  };
}

const started = new Set<ChildProcess>();

/**
 * Kills what a test left running on a terminal (call from afterAll): `script` killed, its terminal hangs
 * up, and the program on it gets SIGHUP.
 */
export function killTerminals(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}
