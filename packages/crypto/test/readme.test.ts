import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The README's ```ts blocks, in order. */
async function examples(): Promise<string[]> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)
}

/** Runs one example against this package's source, with os.tmpdir() inside `tmp`; returns its stdout. */
async function runExample(example: string, tmp: string, name: string): Promise<string> {
  const script = join(tmp, name)
  const source = pathToFileURL(join(root, 'src', 'index.ts')).href
  await writeFile(script, example.replace("from '@cas/crypto'", `from '${source}'`))
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, TMPDIR: tmp },
    timeout: 60_000,
  })
  return stdout
}

describe('the README', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cas-crypto-readme-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('has a first example that runs and gets the file back', async () => {
    const [example] = await examples()
    expect(example).toBeDefined()
    // the example makes its folder under os.tmpdir(): point that into this test's folder
    await runExample(example!, dir, 'example.mts')
    const [made] = (await readdir(dir)).filter((name) => name.startsWith('cas-example-'))
    expect(made).toBeDefined()
    expect(await readFile(join(dir, made!, 'photo-again.jpg'), 'utf8')).toBe('not really a photo')
    if (process.platform !== 'win32')
      expect((await stat(join(dir, made!, 'owner.key'))).mode & 0o777).toBe(0o600)
  }, 90_000)

  it('has a format 2 example that seals an object in one pass and opens it chunk by chunk', async () => {
    const example = (await examples()).find((e) => e.includes('new ObjectSealer('))
    expect(example).toBeDefined()
    // the example asserts it got its bytes back, then prints the cid, size and chunk count
    const stdout = await runExample(example!, dir, 'example-format-2.mts')
    expect(stdout.trim()).toMatch(/^[0-9a-f]{64}: 3145733 bytes in 4 chunks$/)
  }, 90_000)
})
