import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { hashStream, sha256, tempDir } from './helpers.js'

describe('concurrent access', () => {
  it('ends with exactly one complete version when ten writers race on one key', async () => {
    const store = new Store({ root: await tempDir() })
    const versions = Array.from({ length: 10 }, () =>
      randomBytes(512 * 1024 + Math.floor(Math.random() * 4096)),
    )
    await Promise.all(versions.map((data) => store.write('contested', data)))
    const got = await hashStream(store.read('contested'))
    expect(versions.map(sha256)).toContain(got.digest)
    expect(await store.usage()).toMatchObject({ count: 1 })
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
  })

  it('stores one object when the same content is put ten times at once', async () => {
    const store = new Store({ root: await tempDir() })
    const data = randomBytes(256 * 1024)
    const results = await Promise.all(Array.from({ length: 10 }, () => store.put(data)))
    expect(new Set(results.map((r) => r.key))).toEqual(new Set([sha256(data)]))
    expect(await store.usage()).toEqual({ bytes: data.length, count: 1 })
  })

  it('gives readers during a rewrite either the old or the new version, whole', async () => {
    const store = new Store({ root: await tempDir() })
    const oldData = randomBytes(8 * 1024 * 1024)
    const newData = randomBytes(8 * 1024 * 1024)
    await store.write('k', oldData)
    const allowed = new Set([sha256(oldData), sha256(newData)])

    let writing = true
    const writer = store.write('k', newData).finally(() => {
      writing = false
    })
    const seen: string[] = []
    do seen.push((await hashStream(store.read('k'))).digest)
    while (writing)
    await writer
    seen.push((await hashStream(store.read('k'))).digest)

    for (const digest of seen) expect(allowed).toContain(digest)
    expect(seen.at(-1)).toBe(sha256(newData))
  })

  it('keeps a writer working when a delete empties the folders it is about to use', async () => {
    const store = new Store({ root: await tempDir() })
    for (let round = 0; round < 50; round++) {
      await store.write('k', Buffer.from('x'))
      await Promise.all([store.delete('k'), store.write('k', Buffer.from(`round ${round}`))])
    }
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
  })
})
