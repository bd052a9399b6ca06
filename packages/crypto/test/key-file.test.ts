import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_SCRYPT_PARAMS,
  generateOwnerKey,
  loadOwnerKey,
  type OwnerKey,
  ownerKeyToPem,
  saveOwnerKey,
  sealedOwnerIdOf,
} from '../src/index.js'

// cheap parameters keep the suite fast; one test below uses the defaults
const FAST = { N: 1024, r: 8, p: 1 }
const posix = process.platform !== 'win32'
const run = promisify(execFile)

describe('owner key files', () => {
  let dir: string
  let key: OwnerKey
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-crypto-key-'))
    key = generateOwnerKey()
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.runIf(posix)('saves a plain PKCS#8 PEM with mode 0600 and loads it back', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readFile(path, 'utf8')).toBe(ownerKeyToPem(key))
    expect((await loadOwnerKey(path)).ownerId).toBe(key.ownerId)
  })

  it('creates missing parent folders', async () => {
    const path = join(dir, 'a', 'b', 'owner.key')
    await saveOwnerKey(path, key)
    expect((await loadOwnerKey(path)).ownerId).toBe(key.ownerId)
  })

  it('seals the key with a passphrase and opens it only with that passphrase', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key, { passphrase: 'correct horse', scrypt: FAST })
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain('BEGIN PRIVATE KEY')
    expect(text).toContain('Kdf: scrypt N=1024 r=8 p=1')
    expect(sealedOwnerIdOf(text)).toBe(key.ownerId)
    expect((await loadOwnerKey(path, { passphrase: 'correct horse' })).ownerId).toBe(key.ownerId)
    await expect(loadOwnerKey(path, { passphrase: 'wrong horse' })).rejects.toMatchObject({
      code: 'ERR_WRONG_PASSPHRASE',
    })
    await expect(loadOwnerKey(path)).rejects.toMatchObject({ code: 'ERR_PASSPHRASE_REQUIRED' })
  })

  it('seals with the default scrypt parameters and records them in the file', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key, { passphrase: 'pässwörd' })
    const { N, r, p } = DEFAULT_SCRYPT_PARAMS
    expect(await readFile(path, 'utf8')).toContain(`Kdf: scrypt N=${N} r=${r} p=${p}`)
    // the same passphrase in another Unicode normal form opens it too
    const decomposed = 'pässwörd'.normalize('NFD')
    expect((await loadOwnerKey(path, { passphrase: decomposed })).ownerId).toBe(key.ownerId)
  })

  it('rejects a sealed key whose header was edited', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key, { passphrase: 'pw', scrypt: FAST })
    const text = await readFile(path, 'utf8')
    const other = generateOwnerKey().ownerId
    await writeFile(path, text.replace(key.ownerId, other), { mode: 0o600 })
    await expect(loadOwnerKey(path, { passphrase: 'pw' })).rejects.toMatchObject({
      code: 'ERR_WRONG_PASSPHRASE',
    })
    await writeFile(path, text.replace('N=1024', 'N=1000'), { mode: 0o600 })
    await expect(loadOwnerKey(path, { passphrase: 'pw' })).rejects.toMatchObject({ code: 'ERR_KEY_FILE' })
  })

  it('refuses a sealed key that asks scrypt for more memory than allowed, without running it', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key, { passphrase: 'pw', scrypt: FAST })
    const text = await readFile(path, 'utf8')
    await writeFile(path, text.replace('N=1024 r=8', 'N=1048576 r=32'), { mode: 0o600 })
    await expect(loadOwnerKey(path, { passphrase: 'pw' })).rejects.toMatchObject({
      code: 'ERR_KEY_FILE',
      message: expect.stringContaining('more than'),
    })
  })

  it('rejects unusable save options with ERR_INVALID_ARGUMENT and writes nothing', async () => {
    const path = join(dir, 'owner.key')
    await expect(saveOwnerKey(path, key, { passphrase: '' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(
      saveOwnerKey(path, key, { passphrase: 'x', scrypt: { N: 1000, r: 8, p: 1 } }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses to replace an existing key unless told to', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key)
    const other = generateOwnerKey()
    await expect(saveOwnerKey(path, other)).rejects.toMatchObject({
      code: 'ERR_KEY_FILE',
      message: expect.stringContaining('overwrite'),
    })
    expect((await loadOwnerKey(path)).ownerId).toBe(key.ownerId)
    await saveOwnerKey(path, other, { overwrite: true })
    expect((await loadOwnerKey(path)).ownerId).toBe(other.ownerId)
  })

  it.runIf(posix)('refuses a key file that group or others may read, and says how to fix it', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key)
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      await chmod(path, mode)
      await expect(loadOwnerKey(path)).rejects.toMatchObject({
        code: 'ERR_KEY_PERMISSIONS',
        message: expect.stringContaining(`chmod 600 ${path}`),
      })
    }
    await chmod(path, 0o400)
    expect((await loadOwnerKey(path)).ownerId).toBe(key.ownerId)
  })

  it('reports a missing file and a corrupt file with ERR_KEY_FILE', async () => {
    await expect(loadOwnerKey(join(dir, 'absent.key'))).rejects.toMatchObject({
      code: 'ERR_KEY_FILE',
      message: expect.stringContaining('no owner key'),
    })
    const path = join(dir, 'corrupt.key')
    await writeFile(path, 'this is not a key\n', { mode: 0o600 })
    await expect(loadOwnerKey(path)).rejects.toMatchObject({ code: 'ERR_KEY_FILE' })
    await writeFile(path, ownerKeyToPem(key).slice(0, 60), { mode: 0o600 })
    await expect(loadOwnerKey(path)).rejects.toMatchObject({ code: 'ERR_KEY_FILE' })
  })

  it('reports a sealed key whose body was damaged as a wrong passphrase or a damaged file', async () => {
    const path = join(dir, 'owner.key')
    await saveOwnerKey(path, key, { passphrase: 'pw', scrypt: FAST })
    const text = await readFile(path, 'utf8')
    const lines = text.split('\n')
    const body = lines.findIndex((_line, i) => i > 0 && lines[i - 1] === '')
    lines[body] = lines[body]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
    await writeFile(path, lines.join('\n'), { mode: 0o600 })
    await expect(loadOwnerKey(path, { passphrase: 'pw' })).rejects.toMatchObject({
      code: 'ERR_WRONG_PASSPHRASE',
    })
  })

  it('reports a folder where a key file should be with ERR_KEY_FILE', async () => {
    await expect(loadOwnerKey(dir)).rejects.toMatchObject({ code: 'ERR_KEY_FILE' })
  })

  it.runIf(posix)(
    'reports a named pipe where a key file should be without waiting for a writer',
    async () => {
      const path = join(dir, 'owner.key')
      await run('mkfifo', ['-m', '600', path])
      await expect(loadOwnerKey(path)).rejects.toMatchObject({
        code: 'ERR_KEY_FILE',
        message: expect.stringContaining('not a regular file'),
      })
    },
  )
})
