import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { ObjectInfoSchema, ObjectListSchema, PutResultSchema, VerifyResultSchema } from '@cas/api'
import { ApiError } from '@cas/api/client'
import { CidHasher } from '@cas/crypto'
import { type ClusterNode, casBinPath } from '@cas/test-kit'
import type { z } from 'zod'

export type PutResult = z.infer<typeof PutResultSchema>
export type ObjectInfo = z.infer<typeof ObjectInfoSchema>

/** POST /v1/objects: resolves once the node answered (the put is acknowledged). */
export async function putObject(
  node: ClusterNode,
  body: Readable,
  opts: { name?: string; signal?: AbortSignal } = {},
): Promise<PutResult> {
  const query = opts.name === undefined ? '' : `?name=${encodeURIComponent(opts.name)}`
  return node.client.json(PutResultSchema, 'POST', `/v1/objects${query}`, {
    body,
    ...(opts.signal && { signal: opts.signal }),
  })
}

/** GET /v1/objects/{ref}: the status and the whole body, or the error status and code (and no body). */
export async function getObject(
  node: ClusterNode,
  ref: string,
): Promise<{ status: number; body: Buffer; code?: string }> {
  let res: Awaited<ReturnType<typeof node.client.send>>
  try {
    res = await node.client.send('GET', `/v1/objects/${encodeURIComponent(ref)}`)
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, body: Buffer.alloc(0), code: err.code }
    throw err
  }
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }
}

/** GET /v1/objects/{ref} streamed through the cid hash: for objects too big to hold. */
export async function hashObject(node: ClusterNode, ref: string): Promise<{ cid: string; size: number }> {
  const res = await node.client.send('GET', `/v1/objects/${encodeURIComponent(ref)}`)
  const hash = new CidHasher()
  let size = 0
  for await (const chunk of res) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { cid: hash.digest(), size }
}

export async function listObjects(node: ClusterNode): Promise<ObjectInfo[]> {
  return node.client.json(ObjectListSchema, 'GET', '/v1/objects')
}

export async function statObject(node: ClusterNode, cid: string): Promise<ObjectInfo> {
  return node.client.json(ObjectInfoSchema, 'GET', `/v1/objects/${cid}/stat`)
}

export async function verifyNode(node: ClusterNode): Promise<{ checked: number; damaged: string[] }> {
  return node.client.json(VerifyResultSchema, 'POST', '/v1/verify')
}

/** The built `cas` launcher, run as a user runs it. */
export const CAS_BIN = casBinPath()

export interface CasRun {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `cas <args>` against a node (through its home folder) as a child process, in `cwd`
 * (default this process's), with `env` over the inherited environment (e.g. a wrong CAS_TOKEN).
 */
export function runCas(
  node: ClusterNode,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CasRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAS_BIN, ...args], {
      ...(opts.cwd !== undefined && { cwd: opts.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CAS_HOME: node.home, CAS_API: undefined, CAS_TOKEN: undefined, ...opts.env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** SIGKILL: no shutdown, no cleanup, like a power cut for the process. Resolves once it is gone. */
export async function killHard(node: ClusterNode): Promise<void> {
  const child = node.process.child
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGKILL')
  await gone
}

/** One sample of the node's /metrics, by its name and labels as written there (e.g. `cas_p2p_bytes_total{direction="out"}`). */
export async function metricValue(node: ClusterNode, sample: string): Promise<number> {
  const res = await node.client.send('GET', '/metrics')
  let text = ''
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString()
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1))
  }
  return 0
}
