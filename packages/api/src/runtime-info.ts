import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as z from 'zod'

/** Default port of the local HTTP API (the P2P default is 3000, like the original system). */
export const DEFAULT_API_PORT = 3001
/** Where the CLI looks for a node when neither --api nor CAS_API nor <home>/node.json says. */
export const DEFAULT_API_URL = `http://127.0.0.1:${DEFAULT_API_PORT}`

/** `<home>/node.json`: written once a node listens, removed when it stops. */
export const RUNTIME_FILE = 'node.json'
/** `<home>/api-token`: the bearer token of the HTTP API (mode 0600). */
export const TOKEN_FILE = 'api-token'

export const RuntimeInfoSchema = z.object({
  pid: z.number().int().positive(),
  nodeId: z.string().regex(/^[0-9a-f]{64}$/),
  ownerId: z.string().regex(/^[0-9a-f]{64}$/),
  /** The bound P2P address, host:port. */
  p2p: z.string(),
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:3001. */
  api: z.string().url(),
  startedAt: z.string(),
  version: z.string(),
})
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>

/** The running node's addresses, or undefined if none has written them (or the file is damaged). */
export async function readRuntimeInfo(home: string): Promise<RuntimeInfo | undefined> {
  let text: string
  try {
    text = await readFile(join(home, RUNTIME_FILE), 'utf8')
  } catch {
    return undefined
  }
  try {
    const parsed = RuntimeInfoSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

export async function writeRuntimeInfo(home: string, info: RuntimeInfo): Promise<void> {
  // Write then rename, so that a reader polling for the file never sees half of it.
  const tmp = join(home, `${RUNTIME_FILE}.${process.pid}.tmp`)
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 })
  await rename(tmp, join(home, RUNTIME_FILE))
}

export async function removeRuntimeInfo(home: string): Promise<void> {
  await rm(join(home, RUNTIME_FILE), { force: true })
}

export async function readToken(home: string): Promise<string | undefined> {
  try {
    return (await readFile(join(home, TOKEN_FILE), 'utf8')).trim() || undefined
  } catch {
    return undefined
  }
}

/** True if a process with this pid exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
