import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeleteResultSchema, PeerListSchema, PutResultSchema } from '@cas/api'
import { ApiClient } from '@cas/api/client'
import { CidHasher, cidOf } from '@cas/crypto'
import { type NodeProcess, startNodeProcess } from '@cas/test-kit'
import type { CommandContext } from '../context.js'
import { IntegrityError, UsageError } from '../errors.js'
import { formatBytes, formatTable } from '../output.js'

export interface DemoOptions {
  files: string
  size: string
  keep?: boolean
}

interface FileRow {
  name: string
  size: number
  cid: string
  replicas: number
  putMs: number
  getMs: number
  verified: boolean
}

const PEER_WAIT = 30_000

/**
 * The original system's scenario with three real node processes: store N files from node 3,
 * delete them locally, get them back from the network, verify each.
 */
export async function runDemo(ctx: CommandContext, opts: DemoOptions): Promise<void> {
  const count = Number(opts.files)
  const maxSize = Number(opts.size)
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw new UsageError('--files must be from 1 to 1000')
  if (!Number.isInteger(maxSize) || maxSize < 1)
    throw new UsageError('--size must be a positive number of bytes')
  const { out } = ctx
  const dir = await mkdtemp(join(tmpdir(), 'cas-demo-'))
  const nodes: NodeProcess[] = []
  const cleanup = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    if (!opts.keep) await rm(dir, { recursive: true, force: true })
  }
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    out.info(`demo folder ${dir}`)
    for (let i = 1; i <= 3; i++) {
      const home = join(dir, `node${i}`)
      const bootstrap = nodes.map((n) => n.info.p2p).join(',')
      const node = await startNodeProcess({
        home,
        logFile: join(dir, `node${i}.log`),
        args: [
          '--listen',
          '127.0.0.1:0',
          '--api-listen',
          '127.0.0.1:0',
          '--replication',
          '2',
          '--log-level',
          'info',
        ],
        env: { CAS_BOOTSTRAP: bootstrap },
      })
      nodes.push(node)
      out.info(`node ${i}: pid ${node.info.pid}, p2p ${node.info.p2p}, api ${node.info.api}`)
    }
    const clients = await Promise.all(
      nodes.map(
        async (n) =>
          new ApiClient({
            url: n.info.api,
            token: (await readFile(join(n.home, 'api-token'), 'utf8')).trim(),
          }),
      ),
    )
    const client = clients[2] as ApiClient
    await waitForPeers(client, 2)
    out.info('node 3 is connected to nodes 1 and 2')

    const filesDir = join(dir, 'files')
    await mkdir(filesDir)
    const rows: FileRow[] = []
    for (let i = 0; i < count; i++) {
      const size = Math.max(1, Math.round(maxSize * ((i + 1) / count) ** 2))
      const name = `file-${String(i + 1).padStart(2, '0')}.bin`
      const data = randomBytes(size)
      await writeFile(join(filesDir, name), data)
      const t0 = performance.now()
      const put = await client.json(PutResultSchema, 'POST', `/v1/objects?name=${name}`, {
        body: createReadStream(join(filesDir, name)),
        headers: { 'content-length': String(size) },
      })
      const putMs = performance.now() - t0
      if (put.cid !== cidOf(data)) throw new IntegrityError(`node 3 returned a wrong cid for ${name}`)
      rows.push({ name, size, cid: put.cid, replicas: put.replicas.length, putMs, getMs: 0, verified: false })
    }
    out.info(`stored ${count} files from node 3`)

    for (const row of rows) {
      const del = await client.json(DeleteResultSchema, 'DELETE', `/v1/objects/${row.cid}?local=1`)
      if (!del.local) throw new IntegrityError(`node 3 had no local copy of ${row.name} to delete`)
    }
    out.info('deleted every local copy on node 3')

    for (const row of rows) {
      const t0 = performance.now()
      const res = await client.send('GET', `/v1/objects/${row.cid}`)
      const hash = new CidHasher()
      let size = 0
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk)
        size += chunk.length
      }
      row.getMs = performance.now() - t0
      const original = await readFile(join(filesDir, row.name))
      row.verified = size === row.size && hash.digest() === row.cid && cidOf(original) === row.cid
    }

    const total = rows.reduce((s, r) => s + r.size, 0)
    const putSeconds = rows.reduce((s, r) => s + r.putMs, 0) / 1000
    const getSeconds = rows.reduce((s, r) => s + r.getMs, 0) / 1000
    const ok = rows.every((r) => r.verified)
    const summary = {
      files: rows,
      bytes: total,
      putMiBps: total / 1024 ** 2 / putSeconds,
      getMiBps: total / 1024 ** 2 / getSeconds,
      ok,
    }
    out.result(summary, () =>
      [
        formatTable(
          ['FILE', 'SIZE', 'CID', 'REPLICAS', 'PUT', 'GET (network)', 'VERIFIED'],
          rows.map((r) => [
            r.name,
            formatBytes(r.size),
            `${r.cid.slice(0, 16)}…`,
            String(r.replicas),
            `${r.putMs.toFixed(0)} ms`,
            `${r.getMs.toFixed(0)} ms`,
            r.verified ? out.green('yes') : out.red('NO'),
          ]),
        ),
        '',
        `${count} files, ${formatBytes(total)}: put ${summary.putMiBps.toFixed(1)} MiB/s (store + encrypt + replicate to 2 peers), ` +
          `get back from the network ${summary.getMiBps.toFixed(1)} MiB/s (fetch + decrypt + verify)`,
      ].join('\n'),
    )
    if (!ok) throw new IntegrityError('some files did not come back intact')
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cleanup()
    out.info(opts.keep ? `nodes stopped; kept ${dir}` : 'nodes stopped, demo folder removed')
  }
}

async function waitForPeers(client: ApiClient, wanted: number): Promise<void> {
  const deadline = Date.now() + PEER_WAIT
  for (;;) {
    const peers = await client.json(PeerListSchema, 'GET', '/v1/peers')
    if (peers.filter((p) => p.connected).length >= wanted) return
    if (Date.now() > deadline)
      throw new UsageError(`node 3 did not connect to ${wanted} peers in ${PEER_WAIT / 1000} s`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
