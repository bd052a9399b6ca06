import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HELP_EXAMPLES } from '../src/help-examples.js'
import { MAN_PAGE_MARK } from '../src/man-page.js'
import { cas } from './helpers/cluster.js'

const groff = spawnSync('groff', ['--version']).status === 0

describe('cas manpage', () => {
  it('has a section for every command of `cas --help`, with its options and examples', async () => {
    const page = (await cas(['manpage'])).stdout.toString('utf8')
    expect(page.split('\n')[0]).toBe(MAN_PAGE_MARK)
    const help = (await cas(['--help'])).text
    const commands = [...help.split('Commands:\n')[1]!.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1] as string)
    expect(commands).toEqual(expect.arrayContaining(['put', 'get', 'rm', 'ls', 'repair', 'stop', 'manpage']))
    for (const name of commands.filter((c) => c !== 'help' && c !== 'manpage')) {
      expect(page, name).toMatch(new RegExp(`^\\.SS cas ${name}\\b`, 'm'))
    }
    expect(page).toContain('.B \\-r, \\-\\-recursive')
    expect(page).toContain(HELP_EXAMPLES.put?.[0]?.replaceAll('-', '\\-'))
    expect(page).toMatch(/^\.SH EXIT STATUS$/m)
  })

  it.skipIf(!groff)(
    'renders with groff without a warning (skipped where groff is not installed)',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cas-man-'))
      try {
        const file = join(dir, 'cas.1')
        await writeFile(file, (await cas(['manpage'])).stdout)
        // -P-cbu: plain text, no escape sequences and no overstruck bold or underline.
        const r = spawnSync('groff', ['-k', '-man', '-Tutf8', '-ww', '-P-cbu', file], { encoding: 'utf8' })
        expect(r.stderr).toBe('')
        expect(r.status).toBe(0)
        const text = r.stdout
        expect(text).toContain('EXIT STATUS')
        expect(text).toMatch(/cas get <ref> \[options\]/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  )
})
