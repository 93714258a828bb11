/*
 * A shared name is legal on the network (protocol core/names.ts) but not always on the disk it is saved
 * to: Windows refuses `< > : " | ? *`, device names such as CON or NUL (with any extension), and names
 * that end in a dot or a space; macOS file systems compare names in one Unicode form. Such a file is
 * saved under a safe local name, said once; the content is still recognised by its hash, so resume
 * ("already have it", the part file) works under the local name.
 */

/** Characters Windows refuses in a file name (control characters never reach here: the network refuses them). */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
/** Device names Windows reserves, whatever the extension or case (CON, con.txt, COM1.tar.gz, LPT¹). */
const WINDOWS_RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9¹²³]|LPT[1-9¹²³])(\..*)?$/i;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;

/** The name a download of `name` (a base name) is saved under on `platform`, and why it differs, if it does. */
export function localName(name: string, platform: NodeJS.Platform = process.platform): { name: string; why?: string } {
  if (platform === 'win32') return windowsName(name);
  if (platform === 'darwin') {
    const composed = name.normalize('NFC');
    return composed === name ? { name } : { name: composed, why: 'macOS compares names in composed Unicode (NFC)' };
  }
  return { name };
}

function windowsName(name: string): { name: string; why?: string } {
  const reasons: string[] = [];
  let local = name;
  if (WINDOWS_FORBIDDEN.test(local)) {
    local = local.replace(WINDOWS_FORBIDDEN, '_');
    reasons.push('Windows refuses < > : " | ? * in file names');
  }
  if (TRAILING_DOTS_AND_SPACES.test(local)) {
    local = local.replace(TRAILING_DOTS_AND_SPACES, (tail) => '_'.repeat(tail.length));
    reasons.push('Windows drops dots and spaces at the end of a name');
  }
  const reserved = WINDOWS_RESERVED.exec(local);
  if (reserved) {
    const stem = reserved[1]!;
    local = `${stem}_${local.slice(stem.length)}`;
    reasons.push(`${stem.toUpperCase()} is a device name on Windows`);
  }
  return reasons.length === 0 ? { name } : { name: local, why: reasons.join('; ') };
}
