import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

interface Manifest {
  name: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

async function manifestsUnder(folder: string): Promise<{ dir: string; manifest: Manifest }[]> {
  const out: { dir: string; manifest: Manifest }[] = []
  for (const entry of await readdir(join(ROOT, folder), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const dir = join(folder, entry.name)
    const text = await readFile(join(ROOT, dir, 'package.json'), 'utf8').catch(() => undefined)
    if (text !== undefined) out.push({ dir, manifest: JSON.parse(text) as Manifest })
  }
  return out
}

/** Every workspace package (pnpm-workspace.yaml: packages/*, apps/*, benchmarks, tests/*) and the root. */
async function workspace(): Promise<{ dir: string; manifest: Manifest }[]> {
  const single = async (dir: string) => ({
    dir,
    manifest: JSON.parse(await readFile(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest,
  })
  return [
    await single('.'),
    await single('benchmarks'),
    ...(await manifestsUnder('packages')),
    ...(await manifestsUnder('apps')),
    ...(await manifestsUnder('tests')),
  ]
}

describe('the workspace', () => {
  it('lists no app as a dependency of any package: apps are leaves, run as processes', async () => {
    const all = await workspace()
    const apps = new Set(all.filter((p) => p.dir.startsWith('apps/')).map((p) => p.manifest.name))
    expect([...apps].sort()).toEqual(['@cas/cli', '@cas/node'])
    const offending: string[] = []
    for (const { dir, manifest } of all) {
      for (const field of [
        'dependencies',
        'devDependencies',
        'peerDependencies',
        'optionalDependencies',
      ] as const) {
        for (const name of Object.keys(manifest[field] ?? {})) {
          if (apps.has(name)) offending.push(`${dir}: ${field} has ${name}`)
        }
      }
    }
    expect(offending).toEqual([])
  })
})
