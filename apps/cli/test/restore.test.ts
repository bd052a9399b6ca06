import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ObjectListSchema, StatusSchema } from '@cas/api'
import { LocalCluster } from '@cas/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { InitResultSchema } from '../src/index.js'
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

  it('brings back 220 names (200 of them a folder put with put -r) within 10 s, and every byte with get -r', async () => {
    const local = new LocalCluster({ args: ['--replication', '2'] })
    try {
      const dir = await local.dir()
      const laptopHome = join(dir, 'laptop')
      const init = InitResultSchema.parse(
        JSON.parse((await cas(['--json', '--home', laptopHome, 'init'])).text),
      )
      const h1 = await local.add({ name: 'h1' })
      await local.add({ name: 'h2' })
      await local.add({ name: 'h3' })
      await local.add({ name: 'laptop' })
      const env = { CAS_HOME: laptopHome }
      await waitFor(async () => {
        const s = StatusSchema.parse(JSON.parse((await cas(['--json', 'status'], { env })).text))
        return s.peers.connected >= 3 ? true : undefined
      }, 30_000)
      // 200 files of 1-64 KiB in 3 folders (one with a subfolder), stored with one put -r; 20 single files.
      const home = join(dir, 'home')
      const expected = new Map<string, string>()
      for (let i = 0; i < 200; i++) {
        const folder = ['photos', 'docs', 'music/live'][i % 3] as string
        await mkdir(join(home, folder), { recursive: true })
        const bytes = randomBytes(1024 + Math.floor(Math.random() * 63 * 1024))
        await writeFile(join(home, folder, `${i}.bin`), bytes)
        expected.set(`home/${folder}/${i}.bin`, sha(bytes))
      }
      const putR = await cas(['put', '-r', home], { env })
      expect(putR.stderr).toContain(': 200 files')
      expect(putR.code).toBe(0)
      for (let i = 0; i < 20; i++) {
        const bytes = randomBytes(1024 + i * 1000)
        const path = join(dir, `single-${i}.txt`)
        await writeFile(path, bytes)
        expect((await cas(['put', path], { env })).code).toBe(0)
        expected.set(`single-${i}.txt`, sha(bytes))
      }
      await waitFor(async () => {
        const s = JSON.parse((await cas(['--json', 'status'], { env })).text) as {
          catalogue: { unpublished: number; headHolders: number; publishing: boolean }
        }
        return s.catalogue.unpublished === 0 && !s.catalogue.publishing && s.catalogue.headHolders >= 1
          ? true
          : undefined
      }, 30_000)
      // Lost only once its objects are on other machines: a put that a busy holder missed is under-replicated
      // until repair's next pass, and this test is of the restore, not of that window.
      await waitFor(async () => {
        const listed = ObjectListSchema.parse(JSON.parse((await cas(['--json', 'ls'], { env })).text))
        return listed.every((o) => o.holders.filter((h) => h.live).length >= 2) ? true : undefined
      }, 60_000)
      const laptop = local.nodes.find((n) => n.name === 'laptop')
      await laptop?.process.stop()
      await rm(laptopHome, { recursive: true, force: true })

      const newHome = join(dir, 'new')
      await cas(['--home', newHome, 'init', '--recover'], { input: Buffer.from(init.recoveryPhrase ?? '') })
      const started = Date.now()
      await local.add({ name: 'new', bootstrap: [h1.p2p] })
      const newEnv = { CAS_HOME: newHome }
      const names = await waitFor(async () => {
        const listed = ObjectListSchema.parse(JSON.parse((await cas(['--json', 'ls'], { env: newEnv })).text))
        const all = listed.flatMap((o) => o.names)
        return all.length >= 220 ? all : undefined
      }, 30_000)
      const listedMs = Date.now() - started
      expect(names.sort()).toEqual([...expected.keys()].sort())
      expect(listedMs).toBeLessThan(10_000)
      // The new node met one peer; the bytes are on three. A busy machine (CI runs suites side by side) can
      // list every name before the node has heard where the other holders are: it needs them for the bytes.
      await waitFor(async () => {
        const s = StatusSchema.parse(JSON.parse((await cas(['--json', 'status'], { env: newEnv })).text))
        return (s.peers.members ?? 0) >= 3 ? true : undefined
      }, 30_000)
      const out = join(dir, 'restored')
      const r = await cas(['get', '-r', '/', '-o', out], { env: newEnv })
      expect(r.code, r.stderr).toBe(0)
      const restoredMs = Date.now() - started
      for (const [name, hash] of expected) expect(sha(await readFile(join(out, name))), name).toBe(hash)
      console.log(
        `[figures] restore of 220 names: listed ${(listedMs / 1000).toFixed(1)} s after the new node started, every byte written by get -r at ${(restoredMs / 1000).toFixed(1)} s`,
      )
    } finally {
      await local.stop()
    }
  }, 180_000)
})
