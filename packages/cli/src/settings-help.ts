import { flagOf, type SettingsTable } from './settings.js';

/**
 * The settings part of a command's `--help`: every setting's environment name, its built-in default and
 * what it does, so that nobody needs the repository's `.env.example` to configure an installed program.
 */
export function settingsHelp(table: SettingsTable): string {
  const shown = Object.values(table).map((entry) => [`${entry.env}=${entry.default === '' ? '(empty)' : entry.default}`, entry.help] as const);
  const width = Math.max(...shown.map(([left]) => left.length));
  const lines = shown.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`);
  return `\nSettings (the environment, or a .env in the current folder; flags win over both), with their defaults:\n${lines.join('\n')}\n`;
}

/** A flag's description in `--help`: what it does, with the setting it overrides and that one's default. */
export function flagHelp(entry: SettingsTable[string]): string {
  return `${entry.help} (${entry.env}, default ${entry.default === '' ? 'unset' : entry.default})`;
}

/** A setting's flag for commander's `.option(...)`: `['--http-port <port>', 'what it does (TRACKER_HTTP_PORT, default unset)']`. */
export function settingFlag<T extends SettingsTable>(table: T, key: keyof T & string): [string, string] {
  const entry = table[key]!;
  return [flagOf(key, entry), flagHelp(entry)];
}
