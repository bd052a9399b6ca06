import { readdir, readFile, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Harness } from './helpers/harness.js'

const harness = new Harness()
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  servers.length = 0
  await harness.cleanup()
})

async function busyPort(): Promise<number> {
  const server = createServer()
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

describe('cas-node start-up errors', () => {
  it('exits 2 with one line naming the option and what is allowed for an invalid value', async () => {
    const home = await harness.tempDir()
    const node = harness.spawn(home, ['--replication', 'lots'])
    expect(await node.exit).toEqual({ code: 2, signal: null })
    expect(node.stderr()).toBe(
      'cas-node: invalid --replication / CAS_REPLICATION: "lots" (from --replication); allowed: a whole number from 1 to 64, or "all"\n',
    )
    await expect(readFile(join(home, 'node.json'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('exits 2 for a bad value in the config file and names the file', async () => {
    const home = await harness.tempDir()
    await writeFile(join(home, 'config.json'), JSON.stringify({ tls: 'maybe' }))
    const node = harness.spawn(home, ['--listen', '127.0.0.1:0', '--api-listen', '127.0.0.1:0'])
    expect((await node.exit).code).toBe(2)
    expect(node.output()).toContain(`"tls" in ${join(home, 'config.json')}`)
    expect(node.output()).toContain('allowed: true or false')
  })

  it('exits 3 with one line naming the taken P2P port and the option that changes it, creating no key', async () => {
    const port = await busyPort()
    const home = await harness.tempDir()
    const node = harness.spawn(home, ['--listen', `127.0.0.1:${port}`, '--api-listen', '127.0.0.1:0'])
    expect(await node.exit).toEqual({ code: 3, signal: null })
    expect(node.stderr()).toBe(
      `cas-node: 127.0.0.1:${port} is already in use (P2P listen address); choose another with --listen or CAS_LISTEN\n`,
    )
    // A fresh data directory stays empty: no owner key, certificate or token was made for a node that never ran.
    expect(await readdir(home)).toEqual([])
  })

  it('exits 3 with one line naming the taken API port and the option that changes it', async () => {
    const port = await busyPort()
    const home = await harness.tempDir()
    const node = harness.spawn(home, ['--listen', '127.0.0.1:0', '--api-listen', `127.0.0.1:${port}`])
    expect(await node.exit).toEqual({ code: 3, signal: null })
    expect(node.stderr()).toBe(
      `cas-node: 127.0.0.1:${port} is already in use (HTTP API address); choose another with --api-listen or CAS_API_LISTEN\n`,
    )
    // nothing half-started is left behind, and no key was created
    expect(await readdir(home)).toEqual([])
  })

  it('refuses to start a second node on a data directory in use', async () => {
    const home = await harness.tempDir()
    const first = await harness.start(home)
    const second = harness.spawn(home)
    expect((await second.exit).code).toBe(1)
    expect(second.output()).toContain(
      `a node (pid ${first.child.pid}) already runs with the data directory ${home}`,
    )
  })

  it('prints its options with --help and exits 0', async () => {
    const node = harness.spawn(await harness.tempDir(), ['--help'])
    expect((await node.exit).code).toBe(0)
    expect(node.output()).toContain('CAS_BOOTSTRAP')
  })
})
