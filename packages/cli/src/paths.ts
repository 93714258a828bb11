import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CONFIG_HOME/p2pservice`, or `~/.config/p2pservice`: identities and known trackers live here. */
export function defaultConfigDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'p2pservice');
}

/** `$XDG_STATE_HOME/p2pservice`, or `~/.local/state/p2pservice`: what a peer remembers between runs (the numbered results it showed). */
export function defaultStateDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'p2pservice');
}
