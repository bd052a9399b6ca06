import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('the README', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-crypto-readme-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('has a first example that runs and gets the file back', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toBeDefined()
    const script = join(dir, 'example.mts')
    const source = pathToFileURL(join(root, 'src', 'index.ts')).href
    await writeFile(script, example!.replace("from '@cas/crypto'", `from '${source}'`))
    // the example makes its folder under os.tmpdir(): point that into this test's folder
    await run(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, TMPDIR: dir },
      timeout: 60_000,
    })
    const [made] = (await readdir(dir)).filter((name) => name.startsWith('cas-example-'))
    expect(made).toBeDefined()
    expect(await readFile(join(dir, made!, 'photo-again.jpg'), 'utf8')).toBe('not really a photo')
    if (process.platform !== 'win32')
      expect((await stat(join(dir, made!, 'owner.key'))).mode & 0o777).toBe(0o600)
  }, 90_000)
})
