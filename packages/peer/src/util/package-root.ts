import { existsSync } from 'node:fs';

/**
 * The peer package's own folder (the nearest one up with a package.json), found from this module's URL.
 * Files the package reads at run time (its package.json, the page's assets, the hashing thread) are named
 * from here, because this module runs from three depths: `src/util/` under the tests, `dist/util/`, and
 * the CLI's bundle in `dist/bundle/`.
 */
function packageRoot(): URL {
  for (let folder = new URL('./', import.meta.url); ; folder = new URL('../', folder)) {
    if (existsSync(new URL('package.json', folder))) return folder;
    if (folder.pathname === '/' || new URL('../', folder).href === folder.href) throw new Error(`no package.json above ${import.meta.url}`);
  }
}

export const PACKAGE_ROOT: URL = packageRoot();
