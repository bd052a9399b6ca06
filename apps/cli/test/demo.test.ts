import { access } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { cas } from './helpers/cluster.js'

const DemoResultSchema = z.object({
  files: z.array(
    z.object({
      name: z.string(),
      size: z.number().int().positive(),
      cid: z.string().regex(/^[0-9a-f]{64}$/),
      replicas: z.number().int(),
      putMs: z.number(),
      getMs: z.number(),
      verified: z.boolean(),
    }),
  ),
  bytes: z.number(),
  putMiBps: z.number().positive(),
  getMiBps: z.number().positive(),
  ok: z.boolean(),
})

describe('cas demo', () => {
  it('stores 20 files from node 3, gets every one back from the network intact, and cleans up', async () => {
    const r = await cas(['--json', 'demo'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = DemoResultSchema.parse(JSON.parse(r.text))
    expect(result.files).toHaveLength(20)
    expect(result.files.every((f) => f.verified && f.replicas === 2)).toBe(true)
    expect(new Set(result.files.map((f) => f.cid)).size).toBe(20)
    expect(result.ok).toBe(true)
  }, 180_000)

  it('prints a table and the throughput, and removes its temporary folder', async () => {
    const r = await cas(['demo', '--files', '3', '--size', '65536'])
    expect(r.code).toBe(0)
    const lines = r.text.split('\n')
    expect(lines[0]).toMatch(/^FILE\s+SIZE\s+CID\s+REPLICAS\s+PUT\s+GET \(network\)\s+VERIFIED$/)
    expect(lines.slice(1, 4).every((l) => /\byes$/.test(l))).toBe(true)
    expect(r.text).toMatch(/3 files, .*: put [\d.]+ MiB\/s .* get back from the network [\d.]+ MiB\/s/)
    const folder = /demo folder (\S+)/.exec(r.stderr)?.[1]
    expect(folder).toBeDefined()
    await expect(access(folder as string)).rejects.toMatchObject({ code: 'ENOENT' })
  }, 180_000)
})
