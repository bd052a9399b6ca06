// Folders: `cas put -r` and `cas get -r` of many small files through the cas CLI and a lone node,
// beside `cp -r` of the same folder on the same disk.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { casBinPath } from '@cas/test-kit'
import type { BenchRecord } from './bench-record.js'
import type { ClusterNode } from './cluster.js'

const KiB = 1024
/** Files per folder of the tree written: 100 folders of 100 for the full run. */
const PER_FOLDER = 100

const CAS_BIN = casBinPath()

/** Runs a command; resolves with its wall time in seconds, rejects with its stderr when it fails. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve((performance.now() - start) / 1000)
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))
    })
  })
}

/** `count` files of 1-64 KiB in folders of PER_FOLDER; resolves with their total size. */
async function writeTree(root: string, count: number): Promise<number> {
  let bytes = 0
  for (let i = 0; i < count; i++) {
    const folder = join(root, `d${Math.floor(i / PER_FOLDER)}`)
    if (i % PER_FOLDER === 0) await mkdir(folder, { recursive: true })
    const data = randomBytes(KiB + Math.floor(Math.random() * 63 * KiB))
    bytes += data.length
    await writeFile(join(folder, `f${i}.bin`), data)
  }
  return bytes
}

/**
 * put -r, a second put -r with nothing changed, and get -r of `count` files against the lone node, each
 * beside `cp -r` of the same folder (the page cache warm for both, as the files were just written).
 */
export async function folderBench(
  dir: string,
  lone: ClusterNode,
  count: number,
  record: (r: Omit<BenchRecord, 'suite'>, suite?: string) => void,
): Promise<void> {
  const src = join(dir, 'folder-src')
  const bytes = await writeTree(src, count)
  console.log(
    `folder bench: ${count} files, ${(bytes / KiB / KiB).toFixed(1)} MiB in ${count / PER_FOLDER} folders`,
  )
  const env = { CAS_HOME: lone.home }
  try {
    const cp = await timed('cp', ['-r', src, join(dir, 'folder-cp')])
    const put = await timed(
      process.execPath,
      [CAS_BIN, '--quiet', 'put', '-r', src, '--name', 'bench-folder'],
      env,
    )
    const again = await timed(
      process.execPath,
      [CAS_BIN, '--quiet', 'put', '-r', src, '--name', 'bench-folder'],
      env,
    )
    const get = await timed(
      process.execPath,
      [CAS_BIN, '--quiet', 'get', '-r', 'bench-folder', '-o', join(dir, 'folder-get')],
      env,
    )
    const baseline = { name: `cp -r, same ${count} files`, value: count / cp }
    const suite = 'system-1'
    record(
      {
        name: `put -r of ${count} files of 1-64 KiB, lone node`,
        unit: 'files/s',
        value: count / put,
        baseline,
      },
      suite,
    )
    record(
      {
        name: `put -r again, nothing changed (${count} files)`,
        unit: 'files/s',
        value: count / again,
        baseline,
      },
      suite,
    )
    record(
      {
        name: `get -r of ${count} files of 1-64 KiB, lone node`,
        unit: 'files/s',
        value: count / get,
        baseline,
      },
      suite,
    )
  } finally {
    await Promise.all(
      ['folder-src', 'folder-cp', 'folder-get'].map((f) =>
        rm(join(dir, f), { recursive: true, force: true }),
      ),
    )
  }
}
