// `pnpm --filter @cas/benchmarks profile-summary <dir>`: where the time went in the V8 CPU profiles that
// CAS_BENCH_PROFILE=<dir> collected, one summary per process: idle share, then the functions with the most
// self time, each with the package it lives in.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as z from 'zod'

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
})

const TOP = Number(process.env.TOP ?? 12)

/** A short place for a script URL: the workspace package or dependency it belongs to, else node's own. */
function placeOf(url: string): string {
  if (url === '') return 'native'
  if (url.startsWith('node:')) return url
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (dep) return dep[1] ?? url
  const own = /\/(packages|apps)\/([^/]+)\/(?:dist|src)\/(.+)$/.exec(url)
  if (own) return `${own[2]}/${own[3]}`
  return url.split('/').slice(-2).join('/')
}

async function summarise(file: string): Promise<void> {
  const profile = ProfileSchema.parse(JSON.parse(await readFile(file, 'utf8')))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  const byPlace = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)
    if (!node) return
    const { functionName, url, lineNumber } = node.callFrame
    const key = functionName.startsWith('(')
      ? functionName
      : `${functionName || '(anonymous)'} ${placeOf(url)}:${lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
    if (!functionName.startsWith('(')) {
      const place = placeOf(url).replace(/\/[^/]*$/, '')
      byPlace.set(place, (byPlace.get(place) ?? 0) + dt)
    }
    total += dt
  })
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled`)
  for (const special of ['(idle)', '(garbage collector)', '(program)']) {
    console.log(`  ${special.padEnd(22)} ${pct(self.get(special) ?? 0)}`)
  }
  const places = [...byPlace.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
  console.log(`  by place: ${places.map(([p, us]) => `${p} ${pct(us)}`).join(', ')}`)
  const busy = [...self.entries()].filter(([k]) => !k.startsWith('(')).sort((a, b) => b[1] - a[1])
  for (const [key, us] of busy.slice(0, TOP)) console.log(`  ${pct(us).padStart(6)}  ${key}`)
}

const dir = process.argv[2]
if (!dir) throw new Error('usage: profile-summary <dir of .cpuprofile files>')
for (const name of (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile')).sort()) {
  await summarise(join(dir, name))
}
