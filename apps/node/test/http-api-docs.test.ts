import { readFile } from 'node:fs/promises'
import { API_ROUTES } from '@cas/api'
import { describe, expect, it } from 'vitest'

const DOC = new URL('../../../docs/http-api.md', import.meta.url)

/** `METHOD /path` of every row of the doc's endpoint table (queries and bodies cut off). */
async function documentedRoutes(): Promise<string[]> {
  const text = await readFile(DOC, 'utf8')
  const section = text.slice(text.indexOf('## Endpoints'), text.indexOf('## Status codes'))
  const found: string[] = []
  for (const line of section.split('\n')) {
    const first = line.startsWith('| `') ? line.split('|')[1] : undefined
    if (!first) continue
    for (const [, method, path] of first.matchAll(/`(GET|HEAD|POST|DELETE) ([^`?\s]+)/g)) {
      found.push(`${method} ${path}`)
    }
  }
  return [...new Set(found)].sort()
}

describe('docs/http-api.md', () => {
  it('lists exactly the routes the node serves', async () => {
    const served = [...new Set(API_ROUTES.map((r) => `${r.method} ${r.path}`))].sort()
    expect(await documentedRoutes()).toEqual(served)
  })
})
