import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { casPathTransform, type PathTransform, Store } from '../src/index.js'
import { filesUnder, hashStream, randomSource, readAll, sha256, tempDir } from './helpers.js'

async function openStore(pathTransform?: PathTransform): Promise<Store> {
  const store = new Store(
    pathTransform ? { root: await tempDir(), pathTransform } : { root: await tempDir() },
  )
  await store.open()
  return store
}

describe('Store put and read', () => {
  for (const size of [0, 1, 1024 * 1024]) {
    it(`round-trips ${size} random bytes under their SHA-256`, async () => {
      const store = await openStore()
      const data = randomBytes(size)
      const { key, size: stored } = await store.put(data)
      expect(key).toBe(sha256(data))
      expect(stored).toBe(size)
      expect(await readAll(store.read(key))).toEqual(data)
      expect((await store.stat(key)).size).toBe(size)
    })
  }

  it('round-trips 200 MiB streamed from an async iterable without holding it whole', async () => {
    const store = await openStore()
    const { source, digest } = randomSource(200 * 1024 * 1024)
    const { key, size } = await store.put(source)
    expect(key).toBe(digest())
    expect(size).toBe(200 * 1024 * 1024)
    expect(await hashStream(store.read(key))).toEqual({ digest: key, size })
  }, 120_000)

  it('accepts a Readable as a source', async () => {
    const store = await openStore()
    const data = randomBytes(300_000)
    const { key } = await store.put(Readable.from([data.subarray(0, 7), data.subarray(7)]))
    expect(key).toBe(sha256(data))
  })

  it('stores identical content once', async () => {
    const store = await openStore()
    const data = randomBytes(4096)
    const a = await store.put(data)
    const b = await store.put(Buffer.from(data))
    expect(b.key).toBe(a.key)
    expect(await store.usage()).toEqual({ bytes: 4096, count: 1 })
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
  })

  it('lays objects out as <root>/<namespace>/<casPathTransform(key)>', async () => {
    const store = await openStore()
    await store.write('momsbestpicture', Buffer.from('pixels'), { namespace: 'photos' })
    expect(await filesUnder(join(store.root, 'photos'))).toEqual([casPathTransform('momsbestpicture')])
  })

  it('uses a plugged-in path transform', async () => {
    const store = await openStore((key) => `flat/${key}`)
    await store.write('hello', Buffer.from('world'))
    expect(await filesUnder(join(store.root, 'self'))).toEqual(['flat/hello'])
    expect(await readAll(store.read('hello'))).toEqual(Buffer.from('world'))
  })
})

describe('Store ranges', () => {
  const data = Buffer.from('0123456789abcdefghij')

  it.each([
    [{ start: 0, end: 0 }, '0'],
    [{ start: 5, end: 9 }, '56789'],
    [{ start: 15 }, 'fghij'],
    [{ end: 3 }, '0123'],
    [{ start: 18, end: 1000 }, 'ij'],
    [{ start: 20 }, ''],
  ])('reads the inclusive range %o', async (range, expected) => {
    const store = await openStore()
    await store.write('k', data)
    expect((await readAll(store.read('k', range))).toString()).toBe(expected)
  })

  it('reads a range that spans many read chunks', async () => {
    const store = await openStore()
    const big = randomBytes(3 * 1024 * 1024)
    const { key } = await store.put(big)
    const got = await readAll(store.read(key, { start: 100_000, end: 2_900_000 }))
    expect(got.equals(big.subarray(100_000, 2_900_001))).toBe(true)
  })

  it('rejects a range whose start is past its end with ERR_INVALID_RANGE', async () => {
    const store = await openStore()
    await store.write('k', data)
    await expect(readAll(store.read('k', { start: 5, end: 2 }))).rejects.toMatchObject({
      code: 'ERR_INVALID_RANGE',
    })
    await expect(readAll(store.read('k', { start: -1 }))).rejects.toMatchObject({ code: 'ERR_INVALID_RANGE' })
  })
})

describe('Store metadata', () => {
  it('reports missing objects as ERR_NOT_FOUND from read and stat, and false from has and delete', async () => {
    const store = await openStore()
    await expect(readAll(store.read('nope'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    await expect(store.stat('nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(await store.has('nope')).toBe(false)
    expect(await store.delete('nope')).toBe(false)
  })

  it('keeps namespaces apart', async () => {
    const store = await openStore()
    await store.write('k', Buffer.from('alice'), { namespace: 'alice' })
    await store.write('k', Buffer.from('bob'), { namespace: 'bob' })
    expect((await readAll(store.read('k', { namespace: 'alice' }))).toString()).toBe('alice')
    expect((await readAll(store.read('k', { namespace: 'bob' }))).toString()).toBe('bob')
    expect(await store.has('k')).toBe(false)
    const names: string[] = []
    for await (const ns of store.namespaces()) names.push(ns)
    expect(names.sort()).toEqual(['alice', 'bob'])
  })

  it('lists original keys and sums usage per namespace', async () => {
    const store = await openStore()
    const keys = ['a', 'b/c', '../../weird key', 'é ü']
    for (const [i, key] of keys.entries())
      await store.write(key, randomBytes(100 * (i + 1)), { namespace: 'ns' })
    const listed: string[] = []
    for await (const key of store.list('ns')) listed.push(key)
    expect(listed.sort()).toEqual([...keys].sort())
    expect(await store.usage('ns')).toEqual({ bytes: 1000, count: 4 })
    expect(await store.usage('empty')).toEqual({ bytes: 0, count: 0 })
  })

  it('deletes an object, prunes its emptied folders and keeps its neighbours', async () => {
    const store = await openStore()
    await store.write('one', Buffer.from('1'))
    await store.write('two', Buffer.from('2'))
    expect(await store.delete('one')).toBe(true)
    expect(await store.has('one')).toBe(false)
    expect(await store.has('two')).toBe(true)
    expect(await filesUnder(join(store.root, 'self'))).toEqual([casPathTransform('two')])
    const firstFolder = casPathTransform('one').split('/')[0] ?? ''
    if (firstFolder !== casPathTransform('two').split('/')[0]) {
      expect(await readdir(join(store.root, 'self'))).not.toContain(firstFolder)
    }
  })

  it('replaces an object written again under the same key', async () => {
    const store = await openStore()
    await store.write('k', Buffer.from('first version'))
    await store.write('k', Buffer.from('second'))
    expect((await readAll(store.read('k'))).toString()).toBe('second')
    expect((await store.stat('k')).size).toBe(6)
  })

  it('clears every namespace', async () => {
    const store = await openStore()
    await store.put(randomBytes(10))
    await store.put(randomBytes(10), { namespace: 'other' })
    await store.clear()
    expect(await store.usage()).toEqual({ bytes: 0, count: 0 })
    expect(await store.usage('other')).toEqual({ bytes: 0, count: 0 })
    await store.put(randomBytes(10))
    expect((await store.usage()).count).toBe(1)
  })

  it('stops a put when its signal aborts and leaves nothing behind', async () => {
    const store = await openStore()
    const controller = new AbortController()
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let i = 0; ; i++) {
        if (i === 3) controller.abort()
        yield randomBytes(1024)
      }
    }
    await expect(store.put(endless(), { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
    expect(await store.usage()).toEqual({ bytes: 0, count: 0 })
  })

  it('passes a source error to the caller and leaves nothing behind', async () => {
    const store = await openStore()
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield randomBytes(10)
      throw new Error('upstream broke')
    }
    await expect(store.write('k', failing())).rejects.toThrow('upstream broke')
    expect(await store.has('k')).toBe(false)
    expect(await readdir(join(store.root, '.tmp'))).toEqual([])
  })
})
