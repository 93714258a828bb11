import { link, lstat, rename, unlink } from 'node:fs/promises';
import { type Content, P2PError } from '@p2pservice/protocol';
import { ioError } from '../util/fs-errors.js';
import { hashFile } from '../share/hash-file.js';

/**
 * True if `target` already holds exactly `content`. Refuses (TARGET_EXISTS) if something else is there,
 * unless `force`; a symlink is never followed, only ever replaced.
 */
export async function targetHasContent(target: string, content: Content, force: boolean): Promise<boolean> {
  let stats;
  try {
    stats = await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError(`cannot inspect ${target}`, error);
  }
  if (stats.isFile() && stats.size === content.size) {
    const existing = await hashFile(target).catch(() => undefined);
    if (existing?.sha256 === content.sha256) return true;
  }
  if (force && !stats.isDirectory()) return false;
  const what = stats.isSymbolicLink() ? 'a symbolic link' : stats.isDirectory() ? 'a folder' : 'a different file';
  throw new P2PError('TARGET_EXISTS', `${target} already exists and is ${what}`, stats.isDirectory() ? 'choose another --out' : 'pass --force to replace it');
}

/** Moves the verified temporary file to its final name: without `force`, never over an existing file. */
export async function commit(temporary: string, target: string, content: Content, force: boolean): Promise<void> {
  try {
    if (force) {
      await rename(temporary, target);
      return;
    }
    // link() fails with EEXIST instead of replacing: a file that appeared meanwhile is not clobbered.
    await link(temporary, target);
    await unlink(temporary);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      // Another download of the same content into the same folder finished first: that is success.
      if ((await hashFile(target).catch(() => undefined))?.sha256 === content.sha256) {
        await unlink(temporary);
        return;
      }
      throw new P2PError('TARGET_EXISTS', `${target} appeared while downloading`, 'pass --force to replace it');
    }
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      // File systems without hard links: the existence check above is the best that remains.
      await rename(temporary, target);
      return;
    }
    throw ioError(`cannot move the download to ${target}`, error);
  }
}
