import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { EXIT_USAGE, InitResultSchema, KeyExportResultSchema } from '../src/index.js'
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
    const { recoveryPhrase: _shownOnce, ...rest } = first
    expect(second).toEqual({ ...rest, created: { ownerKey: false, token: false } })
  })

  async function freshDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'cas-recover-'))
    dirs.push(dir)
    return dir
  }

  it('shows a 24-word recovery phrase once, stores it nowhere, and makes the same owner from it elsewhere', async () => {
    const dir = await freshDir()
    const shown = await cas(['--home', join(dir, 'a'), 'init'])
    expect(shown.code).toBe(0)
    expect(shown.text).toMatch(/recovery phrase \(shown this once\):/)
    const words = [...shown.text.matchAll(/\b\d+\. ([a-z]+)/g)].map((m) => m[1])
    expect(words).toHaveLength(24)
    const first = InitResultSchema.parse(
      JSON.parse((await cas(['--json', '--home', join(dir, 'b'), 'init'])).text),
    )
    const phrase = first.recoveryPhrase ?? ''
    expect(phrase.split(' ')).toHaveLength(24)
    // Not on disk in any form: no file of the folder holds a word sequence of it.
    for (const file of ['owner.key', 'node.key', 'node.crt', 'api-token']) {
      const text = await readFile(join(dir, 'b', file), 'utf8').catch(() => '')
      expect(text).not.toContain(phrase.split(' ').slice(0, 3).join(' '))
    }
    // On a "new machine": the phrase, typed with other spacing and case, on stdin.
    const input = Buffer.from(`${phrase.toUpperCase().split(' ').join('  \n')}\n`)
    const recovered = await cas(['--json', '--home', join(dir, 'new'), 'init', '--recover'], { input })
    expect(recovered.stderr).toBe('')
    const result = InitResultSchema.parse(JSON.parse(recovered.text))
    expect(result).toMatchObject({ ownerId: first.ownerId, recovered: true, created: { ownerKey: true } })
    expect(result.recoveryPhrase).toBeUndefined()
    expect(result.nodeId).not.toBe(first.nodeId)
    // Again on the same folder: nothing changes.
    const again = await cas(['--json', '--home', join(dir, 'new'), 'init', '--recover'], { input })
    expect(InitResultSchema.parse(JSON.parse(again.text)).created.ownerKey).toBe(false)
  })

  it('refuses a mistyped phrase (exit 2) and a folder that holds another owner, changing nothing', async () => {
    const dir = await freshDir()
    const a = InitResultSchema.parse(
      JSON.parse((await cas(['--json', '--home', join(dir, 'a'), 'init'])).text),
    )
    const words = (a.recoveryPhrase ?? '').split(' ')
    const typo = await cas(['--home', join(dir, 'typo'), 'init', '--recover'], {
      input: Buffer.from([...words.slice(0, 3), 'zzzz', ...words.slice(4)].join(' ')),
    })
    expect(typo.code).toBe(EXIT_USAGE)
    expect(typo.stderr).toMatch(/word 4 \("zzzz"\) is not in the BIP-39 English word list/)
    await expect(stat(join(dir, 'typo'))).rejects.toMatchObject({ code: 'ENOENT' })
    const b = InitResultSchema.parse(
      JSON.parse((await cas(['--json', '--home', join(dir, 'b'), 'init'])).text),
    )
    const keyBefore = await readFile(join(dir, 'b', 'owner.key'), 'utf8')
    const clash = await cas(['--home', join(dir, 'b'), 'init', '--recover'], {
      input: Buffer.from(a.recoveryPhrase ?? ''),
    })
    expect(clash.code).not.toBe(0)
    expect(clash.stderr).toContain(`holds the key of owner ${b.ownerId}`)
    expect(await readFile(join(dir, 'b', 'owner.key'), 'utf8')).toBe(keyBefore)
  })

  it('exports the owner key sealed with a passphrase, and recovers from that file', async () => {
    const dir = await freshDir()
    const a = InitResultSchema.parse(
      JSON.parse((await cas(['--json', '--home', join(dir, 'a'), 'init'])).text),
    )
    const file = join(dir, 'backup.key')
    const exported = await cas(['--json', '--home', join(dir, 'a'), 'key', 'export', '-o', file], {
      input: Buffer.from('correct horse battery\n'),
    })
    expect(KeyExportResultSchema.parse(JSON.parse(exported.text))).toEqual({ ownerId: a.ownerId, file })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readFile(file, 'utf8')).toContain('BEGIN CAS SEALED PRIVATE KEY')
    // Never overwritten.
    const twice = await cas(['--home', join(dir, 'a'), 'key', 'export', '-o', file], {
      input: Buffer.from('correct horse battery\n'),
    })
    expect(twice.code).not.toBe(0)
    const wrong = await cas(['--home', join(dir, 'w'), 'init', '--recover', '--key-file', file], {
      input: Buffer.from('wrong passphrase\n'),
    })
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('the passphrase does not open the owner key')
    const recovered = await cas(
      ['--json', '--home', join(dir, 'b'), 'init', '--recover', '--key-file', file],
      {
        input: Buffer.from('correct horse battery\n'),
      },
    )
    expect(InitResultSchema.parse(JSON.parse(recovered.text))).toMatchObject({
      ownerId: a.ownerId,
      recovered: true,
    })
    const short = await cas(['--home', join(dir, 'a'), 'key', 'export', '-o', join(dir, 'short.key')], {
      input: Buffer.from('short\n'),
    })
    expect(short.code).toBe(EXIT_USAGE)
  })
})
