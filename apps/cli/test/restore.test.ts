import { createHash, randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../src/demo/local-cluster.js'
import { InitResultSchema, ObjectListSchema, StatusSchema } from '../src/index.js'
import { cas, waitFor } from './helpers/cluster.js'

/**
 * Issue 15: "Lost your machine?" with real node processes and the `cas` binary. A laptop set up with
 * `cas init` (a recovery phrase) puts files under folder-like names; the laptop's data folder is
 * then deleted. A new machine that has only the phrase runs `cas init --recover`, starts a node that
 * knows one surviving peer, and `cas restore -o DIR` brings every name and every byte back.
 */

const cluster = new LocalCluster({ args: ['--replication', '2'] })
afterAll(() => cluster.stop(), 60_000)

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('restore from a recovery phrase', () => {
  it('brings the names and the bytes back on a new machine from the phrase and one peer', async () => {
    const dir = await cluster.dir()
    const laptopHome = join(dir, 'laptop')
    const init = InitResultSchema.parse(
      JSON.parse((await cas(['--json', '--home', laptopHome, 'init'])).text),
    )
    const phrase = init.recoveryPhrase ?? ''
    const h1 = await cluster.add({ name: 'h1' })
    await cluster.add({ name: 'h2' })
    const laptop = await cluster.add({ name: 'laptop' })
    const env = { CAS_HOME: laptopHome }
    await waitFor(async () => {
      const s = StatusSchema.parse(JSON.parse((await cas(['--json', 'status'], { env })).text))
      return s.peers.connected >= 2 ? true : undefined
    }, 30_000)
    const files = new Map<string, Buffer>()
    for (let i = 0; i < 9; i++) {
      const name = `${['photos', 'docs', 'music'][i % 3]}/${i}.bin`
      const bytes = randomBytes(5_000 + i * 20_000)
      const path = join(dir, `source-${i}`)
      await writeFile(path, bytes)
      const put = await cas(['put', path, '--name', name], { env })
      expect(put.code).toBe(0)
      files.set(name, bytes)
    }
    // Published a moment after the puts: wait until a peer holds this device's head with every op.
    await waitFor(async () => {
      const s = JSON.parse((await cas(['--json', 'status'], { env })).text) as {
        catalogue: { unpublished: number; headHolders: number }
      }
      return s.catalogue.unpublished === 0 && s.catalogue.headHolders >= 1 ? true : undefined
    }, 30_000)
    const before = ObjectListSchema.parse(JSON.parse((await cas(['--json', 'ls'], { env })).text))

    // The laptop is lost, with its data folder.
    await laptop.process.stop()
    await rm(laptopHome, { recursive: true, force: true })

    const newHome = join(dir, 'new')
    const recovered = await cas(['--json', '--home', newHome, 'init', '--recover'], {
      input: Buffer.from(phrase),
    })
    expect(InitResultSchema.parse(JSON.parse(recovered.text)).ownerId).toBe(init.ownerId)
    const started = Date.now()
    await cluster.add({ name: 'new', bootstrap: [h1.p2p] })
    const newEnv = { CAS_HOME: newHome }
    // The node syncs when it meets its first peer; `cas restore` syncs again and fetches everything.
    const out = join(dir, 'restored')
    const restored = await waitFor(async () => {
      const r = await cas(['restore', '-o', out], { env: newEnv })
      return r.code === 0 ? r : undefined
    }, 30_000)
    const seconds = (Date.now() - started) / 1000
    expect(restored.stdout.toString()).toMatch(/^9 file\(s\) \(.+\) written to /)
    expect(restored.stderr).toMatch(/catalogue: 9 objects/)
    const after = ObjectListSchema.parse(JSON.parse((await cas(['--json', 'ls'], { env: newEnv })).text))
    expect(after.map((o) => [o.cid, o.names]).sort()).toEqual(before.map((o) => [o.cid, o.names]).sort())
    for (const [name, bytes] of files) expect(sha(await readFile(join(out, name)))).toBe(sha(bytes))
    console.log(
      `[figures] restore: 9 names and their bytes back ${seconds.toFixed(1)} s after the new node started`,
    )
    // Browsed by folder: the names under photos/.
    const photos = ObjectListSchema.parse(
      JSON.parse((await cas(['--json', 'ls', 'photos'], { env: newEnv })).text),
    )
    expect(photos.flatMap((o) => o.names).sort()).toEqual(['photos/0.bin', 'photos/3.bin', 'photos/6.bin'])
    // By name, as on the lost machine.
    const byName = await cas(['get', 'docs/1.bin'], { env: newEnv })
    expect(byName.stdout.equals(files.get('docs/1.bin') as Buffer)).toBe(true)
  }, 120_000)
})
