import { readdir, readFile, readlink } from 'node:fs/promises'

/** Peak resident set size of a process so far (VmHWM in /proc/<pid>/status), in bytes. */
export async function peakRss(pid: number): Promise<number> {
  return statusField(pid, 'VmHWM')
}

/** Current resident set size (VmRSS), in bytes. */
export async function currentRss(pid: number): Promise<number> {
  return statusField(pid, 'VmRSS')
}

async function statusField(pid: number, field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(m[1]) * 1024
}

/** Open sockets a process holds (entries of /proc/<pid>/fd that are sockets). */
export async function openSockets(pid: number): Promise<number> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
  let n = 0
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
    if (target.startsWith('socket:')) n++
  }
  return n
}
