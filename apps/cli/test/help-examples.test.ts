import { describe, expect, it } from 'vitest'
import { HELP_EXAMPLES } from '../src/help-examples.js'
import { cas } from './helpers/cluster.js'

describe('cas <command> --help', () => {
  it('ends every command’s help with examples of that command', async () => {
    const paths = Object.keys(HELP_EXAMPLES)
    expect(paths).toEqual(
      expect.arrayContaining(['put', 'get', 'rm', 'ls', 'stat', 'repair', 'stop', 'completion']),
    )
    for (const path of paths) {
      const r = await cas([...path.split(' '), '--help'])
      expect(r.code, path).toBe(0)
      expect(r.text, path).toContain(`Examples:\n  ${HELP_EXAMPLES[path]?.[0]}`)
    }
  })

  it('gives examples that name the command they belong to', () => {
    for (const [path, examples] of Object.entries(HELP_EXAMPLES)) {
      const word = path.split(' ').at(-1) as string
      expect(
        examples.some((e) => e.includes(word)),
        path,
      ).toBe(true)
    }
  })
})
