import type { Command } from 'commander'
import { UsageError } from './errors.js'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

interface Spec {
  name: string
  description: string
  /** Long and short flags, e.g. `--name`, `-r`. */
  flags: string[]
  subcommands: Spec[]
}

function specOf(cmd: Command): Spec {
  const spec: Spec = {
    name: cmd.name(),
    description: cmd.description(),
    flags: cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)),
    subcommands: cmd.commands.map(specOf),
  }
  // `cas completion <shell>`: the shells complete like subcommands.
  if (spec.name === 'completion') {
    spec.subcommands = SHELLS.map((name) => ({
      name,
      description: `${name} script`,
      flags: [],
      subcommands: [],
    }))
  }
  return spec
}

const words = (list: string[]) => list.join(' ')

function bash(root: Spec): string {
  const cases = root.subcommands.map((c) => {
    const subs = c.subcommands.map((s) => s.name)
    return `    ${c.name}) COMPREPLY=($(compgen -W "${words([...subs, ...c.flags, '--help'])}" -- "$cur")) ;;`
  })
  // Options complete when the word starts with '-'; anything else falls back to file names (-o default).
  return `# cas completion for bash: eval "$(cas completion bash)", e.g. in ~/.bashrc
_cas() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case " ${words(root.subcommands.map((c) => c.name))} " in *" $w "*) cmd="$w"; break ;; esac
  done
  COMPREPLY=()
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${words([...root.subcommands.map((c) => c.name), ...root.flags, '--help'])}" -- "$cur"))
    return
  fi
  [[ "$cur" == -* || "$cmd" == peers || "$cmd" == completion ]] || return
  case "$cmd" in
${cases.join('\n')}
  esac
}
complete -o default -F _cas cas
`
}

function zsh(root: Spec): string {
  // zsh runs the bash function through its bash-completion layer.
  return `# cas completion for zsh: eval "$(cas completion zsh)", e.g. in ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(root).split('\n').slice(1).join('\n')}`
}

function fish(root: Spec): string {
  const quote = (s: string) => `'${s.replaceAll("'", "\\'")}'`
  const lines = [
    `# cas completion for fish: cas completion fish | source, e.g. in ~/.config/fish/config.fish`,
  ]
  lines.push('complete -c cas -f')
  for (const c of root.subcommands) {
    lines.push(`complete -c cas -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`)
    for (const s of c.subcommands) {
      lines.push(
        `complete -c cas -n '__fish_seen_subcommand_from ${c.name}' -a ${s.name} -d ${quote(s.description)}`,
      )
    }
    for (const f of c.flags.filter((f) => f.startsWith('--'))) {
      lines.push(`complete -c cas -n '__fish_seen_subcommand_from ${c.name}' -l ${f.slice(2)}`)
    }
    if (['put', 'get'].includes(c.name))
      lines.push(`complete -c cas -n '__fish_seen_subcommand_from ${c.name}' -F`)
  }
  for (const f of root.flags.filter((f) => f.startsWith('--'))) lines.push(`complete -c cas -l ${f.slice(2)}`)
  return `${lines.join('\n')}\n`
}

/** The completion script for `shell`, made from the commands and options `program` defines. */
export function completionScript(shell: string, program: Command): string {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`completion is for ${SHELLS.join(', ')}, not ${JSON.stringify(shell)}`)
  }
  const spec = specOf(program)
  return (shell as Shell) === 'bash' ? bash(spec) : shell === 'zsh' ? zsh(spec) : fish(spec)
}
