import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** What a shared folder leaves out: the defaults above, and its own `.p2pignore`. */
export class ShareFilter {
  private constructor(private readonly rules: Ignore) {}

  /** The filter of the folder at `root`; an unreadable or missing `.p2pignore` adds nothing. */
  static async of(root: string): Promise<ShareFilter> {
    const own = await readFile(join(root, IGNORE_FILE), 'utf8').catch(() => '');
    return new ShareFilter(ignore().add(LEFT_OUT_BY_DEFAULT).add(own));
  }

  /** Whether the file or folder at `name` (a shared name, `/`-separated) is left out. */
  excludes(name: string, isFolder = false): boolean {
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (!isFolder && OWN_WORKING_FILE.test(base)) return true;
    return this.rules.ignores(isFolder ? `${name}/` : name);
  }
}
