import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** What a folder of the programs holds: identities and known trackers, what a peer remembers, hash caches. */
export type AppFolder = 'config' | 'state' | 'cache';

const XDG: Record<AppFolder, { env: string; home: string[] }> = {
  config: { env: 'XDG_CONFIG_HOME', home: ['.config'] },
  state: { env: 'XDG_STATE_HOME', home: ['.local', 'state'] },
  cache: { env: 'XDG_CACHE_HOME', home: ['.cache'] },
};

/**
 * Where the programs keep their own files on `platform`: the XDG folders on Linux and the BSDs (and
 * wherever an absolute `XDG_*_HOME` is set), the platform's own elsewhere, as the `env-paths` package
 * lays them out: on Windows `%APPDATA%\\p2pservice\\Config` and `%LOCALAPPDATA%\\p2pservice\\{Data,Cache}`,
 * on macOS `~/Library/{Preferences,Application Support,Caches}/p2pservice`. The platform and home are
 * parameters so that each layout is tested on any machine.
 */
export function appDir(folder: AppFolder, env: Record<string, string | undefined>, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  const xdg = env[XDG[folder].env];
  if (platform === 'win32') {
    if (xdg && win32.isAbsolute(xdg)) return win32.join(xdg, 'p2pservice');
    if (folder === 'config') return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), 'p2pservice', 'Config');
    return win32.join(env.LOCALAPPDATA || win32.join(home, 'AppData', 'Local'), 'p2pservice', folder === 'cache' ? 'Cache' : 'Data');
  }
  if (xdg && xdg.startsWith('/')) return posix.join(xdg, 'p2pservice');
  if (platform === 'darwin') {
    const library = { config: 'Preferences', state: 'Application Support', cache: 'Caches' }[folder];
    return posix.join(home, 'Library', library, 'p2pservice');
  }
  return posix.join(home, ...XDG[folder].home, 'p2pservice');
}

/** Identities and known trackers: `$XDG_CONFIG_HOME/p2pservice`, or `~/.config/p2pservice` (see appDir for other platforms). */
export function defaultConfigDir(env: Record<string, string | undefined>): string {
  return appDir('config', env);
}

/** What a peer remembers between runs (the numbered results it showed): `$XDG_STATE_HOME/p2pservice`, or `~/.local/state/p2pservice`. */
export function defaultStateDir(env: Record<string, string | undefined>): string {
  return appDir('state', env);
}
