/**
 * The settings part of a command's `--help`: every setting's environment name, its built-in default and
 * what it does, so that nobody needs the repository's `.env.example` to configure an installed program.
 */
export function settingsHelp(defaults: Readonly<Record<string, string>>, about: Readonly<Record<string, string>>): string {
  const shown = Object.entries(defaults).map(([name, value]) => [`${name}=${value === '' ? '(empty)' : value}`, about[name] ?? ''] as const);
  const width = Math.max(...shown.map(([left]) => left.length));
  const lines = shown.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`);
  return `\nSettings (the environment, or a .env in the current folder; flags win over both), with their defaults:\n${lines.join('\n')}\n`;
}
