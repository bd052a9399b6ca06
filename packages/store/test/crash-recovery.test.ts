import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Store } from '../src/index.js'
import { readAll, tempDir } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/endless-writer.ts', import.meta.url))
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** Starts a writer in a child process and resolves once it has put bytes into a temporary file. */
async function startWriter(root: string, mode: 'put' | 'write'): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@cas/source', fixture, root, mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)))
    child.stdout?.on('data', (data: Buffer) => {
      if (data.toString().includes('writing')) resolve()
    })
  })
  return child
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

describe('crash during a write', () => {
  it('leaves no partial object, and the next open sweeps the temporary', async () => {
    const root = await tempDir()
    const child = await startWriter(root, 'put')
    await killHard(child)

    const leftovers = await readdir(join(root, '.tmp'))
    expect(leftovers).toHaveLength(1)
    expect((await stat(join(root, '.tmp', leftovers[0] ?? ''))).size).toBeGreaterThan(0)

    const store = new Store({ root })
    await store.open()
    expect(await readdir(join(root, '.tmp'))).toEqual([])
    expect(await store.usage()).toEqual({ bytes: 0, count: 0 })
  }, 60_000)

  it('keeps the previous version of a key whose rewrite was killed', async () => {
    const root = await tempDir()
    const before = new Store({ root })
    await before.write('victim', Buffer.from('the good old version'))

    const child = await startWriter(root, 'write')
    await killHard(child)

    const store = new Store({ root })
    await store.open()
    expect((await readAll(store.read('victim'))).toString()).toBe('the good old version')
    expect(await readdir(join(root, '.tmp'))).toEqual([])
  }, 60_000)

  it('does not sweep the temporary of a writer that is still alive', async () => {
    const root = await tempDir()
    const child = await startWriter(root, 'put')
    const store = new Store({ root })
    await store.open()
    expect(await readdir(join(root, '.tmp'))).toHaveLength(1)
    await killHard(child)
  }, 60_000)
})
