import { describe, expect, it } from 'vitest';
import { appDir } from '../src/paths.js';

/* Where the programs keep their files, on each platform (injected, with its home folder). */

describe('the folders of the programs', () => {
  it('are the XDG folders on Linux, an absolute XDG_*_HOME first', () => {
    expect(['config', 'state', 'cache'].map((f) => appDir(f as 'config', {}, 'linux', '/home/ada'))).toEqual([
      '/home/ada/.config/p2pservice',
      '/home/ada/.local/state/p2pservice',
      '/home/ada/.cache/p2pservice',
    ]);
    expect(appDir('cache', { XDG_CACHE_HOME: '/fast/cache' }, 'linux', '/home/ada')).toBe('/fast/cache/p2pservice');
    // A relative one is no place to keep keys: it is ignored.
    expect(appDir('config', { XDG_CONFIG_HOME: 'cfg' }, 'freebsd', '/home/ada')).toBe('/home/ada/.config/p2pservice');
  });

  it("are the platform's own on macOS and Windows", () => {
    expect(['config', 'state', 'cache'].map((f) => appDir(f as 'config', {}, 'darwin', '/Users/ada'))).toEqual([
      '/Users/ada/Library/Preferences/p2pservice',
      '/Users/ada/Library/Application Support/p2pservice',
      '/Users/ada/Library/Caches/p2pservice',
    ]);
    const windows = { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' };
    expect(['config', 'state', 'cache'].map((f) => appDir(f as 'config', windows, 'win32', 'C:\\Users\\ada'))).toEqual([
      'C:\\Users\\ada\\AppData\\Roaming\\p2pservice\\Config',
      'C:\\Users\\ada\\AppData\\Local\\p2pservice\\Data',
      'C:\\Users\\ada\\AppData\\Local\\p2pservice\\Cache',
    ]);
    // Without the variables, the same folders from the home folder.
    expect(appDir('cache', {}, 'win32', 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Local\\p2pservice\\Cache');
  });
});
