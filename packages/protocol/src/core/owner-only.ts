/**
 * Whether a file's mode shows that only its owner can read it: `others` if group or others may, undefined
 * if not. On Windows a mode says nothing of who may read a file (its access list does), so it is
 * `unknown` there: nothing is refused for it, and the program says that it could not check.
 */
export function ownerOnlyProblem(mode: number, platform: NodeJS.Platform = process.platform): 'others' | 'unknown' | undefined {
  if (platform === 'win32') return 'unknown';
  return (mode & 0o077) !== 0 ? 'others' : undefined;
}

/** The line a program says when it cannot check who may read a secret file (Windows). */
export function uncheckedSecretLine(file: string): string {
  return `on Windows, file modes do not show who can read ${file}: keep it in your own user folder, where only you can read it`;
}
