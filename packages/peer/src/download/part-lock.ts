import { randomBytes } from 'node:crypto';
import { link, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ioError } from '../util/fs-errors.js';

/*
 * The lock of a part file: `<part>.lock` holds the pid of the process downloading it now (and a random
 * token), so that two `peer get`s of one content into one folder never write the same part, and the lock
 * of a process that was killed is taken over.
 */

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock's aside: `<name>.<12 hex>.part.lock.<pid>.<8 hex>` (partPaths, then tryLock's own suffix). */
const ASIDE = /\.[0-9a-f]{12}\.part\.lock\.(\d+)\.[0-9a-f]{8}$/;

/**
 * Removes, in `folder`, the lock asides that processes killed between writing one and removing it left
 * behind (`<lock>.<pid>.<random>`, pid no longer alive): a live taker's aside is never touched. Once per
 * folder in `swept` (a folder download reads each of its folders once, not once per file: a thousand
 * files would read a growing folder a thousand times).
 */
async function sweepDeadAsides(folder: string, swept?: Set<string>): Promise<void> {
  if (swept?.has(folder)) return;
  swept?.add(folder);
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const match = ASIDE.exec(name);
    if (match && !processAlive(Number(match[1]))) await unlink(join(folder, name)).catch(() => undefined);
  }
}

/** Locks held by this process: a lock file with our own pid is not stale while we hold it. */
const heldHere = new Set<string>();

/**
 * Takes the lock, or returns the pid of the live process that holds it. A lock appears complete or not
 * at all (written aside, then hard-linked or renamed into place), so nobody reads a half-written pid.
 * A stale lock (its process is gone) is taken over by renaming a new one onto it and reading it back:
 * of two processes taking over at once, only the one whose token is there goes on. Once taken, the
 * folder's dead asides are swept (once per folder in `sweptFolders`, when given).
 */
export async function tryLock(lock: string, sweptFolders?: Set<string>): Promise<number | undefined> {
  if (heldHere.has(lock)) return process.pid;
  for (;;) {
    const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
    const aside = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(aside, token, { flag: 'wx' });
      try {
        await link(aside, lock);
        heldHere.add(lock);
        await sweepDeadAsides(dirname(lock), sweptFolders);
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readFile(lock, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : ''));
      if (current === undefined) continue; // released just now: try again
      const pid = Number(current.split(' ')[0]);
      if (processAlive(pid) && pid !== process.pid) return pid;
      // The process that held it is gone (killed mid-download): take the lock over.
      await rename(aside, lock);
      if ((await readFile(lock, 'utf8').catch(() => '')) === token) {
        heldHere.add(lock);
        await sweepDeadAsides(dirname(lock), sweptFolders);
        return undefined;
      }
    } catch (error) {
      throw ioError(`cannot create ${lock}`, error);
    } finally {
      await unlink(aside).catch(() => undefined);
    }
  }
}

export async function releaseLock(lock: string): Promise<void> {
  await unlink(lock).catch(() => undefined);
  heldHere.delete(lock);
}
