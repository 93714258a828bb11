import { P2PError } from '@p2pservice/protocol';

/** A file-system error in words a person can act on. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'EISDIR':
      return 'is a folder';
    default:
      return (error as Error).message;
  }
}

/** A local file problem (IO_ERROR) naming what was being done; P2PErrors pass through unchanged. */
export function ioError(what: string, error: unknown): P2PError {
  if (error instanceof P2PError) return error;
  return new P2PError('IO_ERROR', `${what}: ${describeFsError(error)}`, 'check the folder, its permissions and free space', { cause: error });
}
