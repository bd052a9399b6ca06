import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InitResultSchema } from '../src/index.js'
import { cas } from './helpers/cluster.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  dirs.length = 0
})

describe('cas init', () => {
  it('creates the owner key, node certificate and API token once, then leaves them alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cas-init-'))
    dirs.push(dir)
    const home = join(dir, 'home')
    const first = InitResultSchema.parse(JSON.parse((await cas(['--json', '--home', home, 'init'])).text))
    expect(first.created).toEqual({ ownerKey: true, token: true })
    for (const file of ['owner.key', 'node.key', 'api-token']) {
      expect((await stat(join(home, file))).mode & 0o777).toBe(0o600)
    }
    const second = InitResultSchema.parse(
      JSON.parse((await cas(['--json', 'init'], { env: { CAS_HOME: home } })).text),
    )
    expect(second).toEqual({ ...first, created: { ownerKey: false, token: false } })
  })
})
