import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** The file, at the root of a shared folder, whose gitignore-style lines say what not to share. */
export const IGNORE_FILE = '.p2pignore';

/**
 * This program's own working files: a download's part, its sidecar, its lock, and their temporaries
 * (`<name>.<sha12>.part…`, download/part-file.ts). Whoever wrote them, in whatever folder, they are
 * never indexed, announced or served: half a file must not reach anyone's list.
 */
const OWN_WORKING_FILE = /\.[0-9a-f]{12}\.part(\.json(\.[0-9a-f]{8}\.tmp)?|\.lock(\.\d+\.[0-9a-f]{8})?)?$/;

/** What nobody means to share: the litter of operating systems and editors, and the ignore file itself. */
const LEFT_OUT_BY_DEFAULT = [
  IGNORE_FILE,
  '.DS_Store',
  '._*',
  'Thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '.directory',
  '.~lock.*#',
  '~$*',
  '*~',
  '.#*',
  '#*#',
  '.*.sw[a-p]',
];

/** Why the program's own files are left out, in the words a user sees once when sharing starts. */
export const PRIVATE_REASON = "this peer's own settings, keys or state: never shared";

/**
 * What a shared folder leaves out: the defaults above, its own `.p2pignore`, and the program's own private
 * files and folders (its `.env`, its config, state and cache folders) wherever they lie in it.
 */
export class ShareFilter {
  private constructor(
    private readonly rules: Ignore,
    /** Shared names of the program's private files and folders inside this folder. */
    private readonly privateNames: ReadonlySet<string>,
  ) {}

  /**
   * The filter of the folder at `root` (a real path); an unreadable or missing `.p2pignore` adds nothing.
   * `privatePaths` are the program's own files and folders, wherever they are: those inside `root` are
   * never shared, whatever the rules say.
   */
  static async of(root: string, privatePaths: readonly string[] = []): Promise<ShareFilter> {
    const own = await readFile(join(root, IGNORE_FILE), 'utf8').catch(() => '');
    const privateNames = new Set<string>();
    for (const path of privatePaths) {
      // A folder reached through a link is compared by where it really is, as the share's root is.
      const real = await realpath(path).catch(() => resolve(path));
      const name = relative(root, real);
      if (name !== '' && !name.startsWith('..') && !isAbsolute(name)) privateNames.add(name.split(sep).join('/'));
    }
    return new ShareFilter(ignore().add(LEFT_OUT_BY_DEFAULT).add(own), privateNames);
  }

  /** Whether the file or folder at `name` is one of the program's own private ones (never shared, and said so). */
  isPrivate(name: string): boolean {
    return this.privateNames.has(name);
  }

  /** Whether the file or folder at `name` (a shared name, `/`-separated) is left out. */
  excludes(name: string, isFolder = false): boolean {
    if (this.privateNames.has(name)) return true;
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (!isFolder && OWN_WORKING_FILE.test(base)) return true;
    return this.rules.ignores(isFolder ? `${name}/` : name);
  }
}
