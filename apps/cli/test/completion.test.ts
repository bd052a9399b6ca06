import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CAS_BIN, cas } from './helpers/cluster.js'

/** What bash offers for the words typed so far (the last one being completed), with the script loaded. */
function bashCompletes(...typed: string[]): string[] {
  const script = [
    `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(CAS_BIN)} completion bash)"`,
    `COMP_WORDS=(cas ${typed.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${typed.length}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
    '_cas; printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n')
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' })
  expect(r.stderr).toBe('')
  return r.stdout.split('\n').filter(Boolean)
}

const hasShell = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0

describe('cas completion', () => {
  it('bash completes commands, their options and subcommands, and leaves file names to bash', () => {
    expect(bashCompletes('p')).toEqual(['put', 'peers'])
    expect(bashCompletes('s')).toEqual(['snapshots', 'stat', 'share', 'status', 'stop'])
    expect(bashCompletes('ls', '--s')).toEqual(['--sort'])
    expect(bashCompletes('--json', 'get', '-')).toEqual(['--recursive', '-r', '--output', '-o', '--help'])
    expect(bashCompletes('peers', 'a')).toEqual(['add'])
    expect(bashCompletes('completion', 'f')).toEqual(['fish'])
    // a file argument: no words of ours, so `complete -o default` offers file names
    expect(bashCompletes('put', './ph')).toEqual([])
  })

  it.skipIf(!hasShell('zsh'))('zsh loads its script without an error', () => {
    const script = `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(CAS_BIN)} completion zsh)"`
    const r = spawnSync('zsh', ['-c', script], { encoding: 'utf8' })
    expect(r.status).toBe(0)
  })

  it('fish gets one complete line per command and option', async () => {
    const r = await cas(['completion', 'fish'])
    expect(r.code).toBe(0)
    expect(r.text).toContain("complete -c cas -n __fish_use_subcommand -a repair -d 'run a repair pass now")
    expect(r.text).toContain("complete -c cas -n '__fish_seen_subcommand_from ls' -l sort")
    if (hasShell('fish')) expect(spawnSync('fish', ['-n', '-c', r.text]).status).toBe(0)
  })

  it('refuses a shell it does not know as a usage error', async () => {
    const r = await cas(['completion', 'tcsh'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('completion is for bash, zsh, fish, not "tcsh"')
  })
})
