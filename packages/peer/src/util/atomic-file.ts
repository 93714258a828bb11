import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';

/**
 * Writes `data` to `path` atomically: to a temporary beside it first, then renamed over it, so a reader
 * never sees half a file and a crash leaves the old one. The temporary has a random name, created
 * exclusively (`wx`: O_CREAT | O_EXCL, which also refuses a symlink planted at that name), so nothing is
 * ever written through a link someone put there; the rename replaces a link at `path` itself, never
 * its target. The temporary is removed if anything fails, and the error is the caller's to word.
 */
export async function writeFileAtomically(path: string, data: string, mode = 0o644): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data, { flag: 'wx', mode });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
