/** What completion needs of a commander program: its commands and each one's options. */
interface CommandTree {
  name(): string;
  readonly commands: readonly CommandTree[];
  readonly options: readonly { long?: string | undefined; short?: string | undefined }[];
  readonly registeredArguments?: readonly { name(): string }[];
}

const flagsOf = (command: CommandTree) => [...new Set([...command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)), '--help'])];

/**
 * A bash completion script for `program`, made from the commands and options it has (so it never
 * falls behind them): command names first, then the options of the command typed, else file names
 * (folders only where the command takes a `dir`). zsh runs the same script through bashcompinit.
 */
export function completionScript(program: CommandTree, shell: 'bash' | 'zsh'): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_completion`;
  const commands = program.commands.filter((c) => c.name() !== 'help');
  const cases = commands.map((c) => {
    const args = c.registeredArguments?.map((a) => a.name()) ?? [];
    // What follows the command: a shell name, a folder, or any file.
    const then = args.includes('shell') ? 'words="bash zsh"' : args.includes('dir') ? 'files=d' : 'files=f';
    return `    ${c.name()}) opts="${flagsOf(c).join(' ')}"; ${then} ;;`;
  });
  const lines = [
    `# ${name} completion for ${shell}: add  eval "$(${name} completion ${shell})"  to ~/.${shell}rc`,
    ...(shell === 'zsh' ? ['autoload -U +X compinit && compinit', 'autoload -U +X bashcompinit && bashcompinit'] : []),
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} opts files=f words=',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${[...commands.map((c) => c.name()), ...flagsOf(program)].join(' ')}" -- "$cur"))`,
    '    return',
    '  fi',
    '  case "${COMP_WORDS[1]}" in',
    ...cases,
    '    *) opts="" ;;',
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '  elif [ -n "$words" ]; then',
    '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -"$files" -- "$cur"))',
    '  fi',
    '}',
    `complete -o filenames -F ${fn} ${name}`,
  ];
  return `${lines.join('\n')}\n`;
}
