import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { casPathTransform, Store } from '../src/index.js'
import { filesUnder, readAll, tempDir } from './helpers.js'

describe('hostile keys and namespaces', () => {
  it.each([
    ['a parent reference', '../outside'],
    ['an absolute path', '/etc'],
    ['a nested path', 'a/b'],
    ['an empty string', ''],
    ['a NUL byte', 'a\0b'],
    ['the temporary folder', '.tmp'],
    ['an over-long name', 'x'.repeat(129)],
  ])('refuses %s as a namespace with ERR_INVALID_NAMESPACE', async (_what, namespace) => {
    const store = new Store({ root: await tempDir() })
    await expect(store.write('k', Buffer.from('x'), { namespace })).rejects.toMatchObject({
      code: 'ERR_INVALID_NAMESPACE',
    })
    await expect(store.put(Buffer.from('x'), { namespace })).rejects.toMatchObject({
      code: 'ERR_INVALID_NAMESPACE',
    })
    await expect(readAll(store.read('k', { namespace }))).rejects.toMatchObject({
      code: 'ERR_INVALID_NAMESPACE',
    })
    await expect(store.delete('k', { namespace })).rejects.toMatchObject({ code: 'ERR_INVALID_NAMESPACE' })
    await expect(store.list(namespace)[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'ERR_INVALID_NAMESPACE',
    })
  })

  it.each([
    ['empty', ''],
    ['with a NUL byte', 'a\0b'],
    ['over 1024 bytes', 'k'.repeat(1025)],
    ['not a string', 42 as unknown as string],
  ])('refuses a key %s with ERR_INVALID_KEY', async (_what, key) => {
    const store = new Store({ root: await tempDir() })
    await expect(store.write(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await expect(store.stat(key)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await expect(readAll(store.read(key))).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
  })

  it('contains path-like keys inside the namespace folder', async () => {
    const parent = await tempDir()
    const root = join(parent, 'root')
    const store = new Store({ root })
    for (const key of ['../../escape', '/etc/passwd', '..', 'a/../../b']) {
      await store.write(key, Buffer.from(key))
      expect((await readAll(store.read(key))).toString()).toBe(key)
    }
    expect((await filesUnder(parent)).every((f) => f.startsWith('root/self/'))).toBe(true)
    expect(await filesUnder(parent)).toHaveLength(4)
  })

  it('refuses a plugged-in transform that tries to leave the namespace', async () => {
    for (const bad of ['../evil', '/abs', 'a//b', 'a/./b', 'a\\b', '']) {
      const store = new Store({ root: await tempDir(), pathTransform: () => bad })
      await expect(store.write('k', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    }
  })

  it('does not follow an object file replaced by a symlink to a file outside the root', async () => {
    const outside = await tempDir()
    const secret = join(outside, 'secret')
    await writeFile(secret, 'CASB\x01\x00\x01ktop secret')
    const store = new Store({ root: await tempDir() })
    await store.write('k', Buffer.from('ok'))
    const path = join(store.root, 'self', casPathTransform('k'))
    await rm(path)
    await symlink(secret, path)
    await expect(readAll(store.read('k'))).rejects.toMatchObject({ code: 'ERR_STORE_IO' })
    const listed: string[] = []
    for await (const key of store.list()) listed.push(key)
    expect(listed).toEqual([])
  })

  it('refuses to write through a symlinked folder that leads outside the root', async () => {
    const outside = await tempDir()
    const store = new Store({ root: await tempDir() })
    await store.open()
    const first = casPathTransform('k').split('/')[0] ?? ''
    await mkdir(join(store.root, 'self'), { recursive: true })
    await symlink(outside, join(store.root, 'self', first))
    await expect(store.write('k', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_STORE_IO' })
    await expect(readAll(store.read('k'))).rejects.toMatchObject({ code: 'ERR_STORE_IO' })
    expect(await filesUnder(outside)).toEqual([])
  })

  it('skips a file with a damaged header in list and reports it as ERR_CORRUPT_OBJECT on read', async () => {
    const store = new Store({ root: await tempDir() })
    await store.write('k', Buffer.from('fine'))
    const path = join(store.root, 'self', casPathTransform('k'))
    const bytes = await readFile(path)
    bytes[0] = 0x00
    await writeFile(path, bytes)
    await expect(readAll(store.read('k'))).rejects.toMatchObject({ code: 'ERR_CORRUPT_OBJECT' })
    const listed: string[] = []
    for await (const key of store.list()) listed.push(key)
    expect(listed).toEqual([])
  })
})
