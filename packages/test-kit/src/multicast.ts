import { createSocket } from 'node:dgram'

/** A free UDP port on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const { port } = s.address()
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/**
 * Whether a datagram multicast on the loopback interface comes back to a socket of the group on
 * this machine (Linux does this; some kernels and containers do not): what mDNS tests on loopback need.
 */
export async function loopbackMulticastWorks(timeoutMs = 1_000): Promise<boolean> {
  const port = await freeUdpPort()
  const group = '224.0.0.251'
  const rx = createSocket({ type: 'udp4', reuseAddr: true })
  const tx = createSocket('udp4')
  try {
    await new Promise<void>((resolve) => rx.bind(port, group, resolve))
    rx.addMembership(group, '127.0.0.1')
    await new Promise<void>((resolve) => tx.bind(0, '127.0.0.1', resolve))
    tx.setMulticastInterface('127.0.0.1')
    const heard = new Promise<boolean>((resolve) => {
      rx.once('message', () => resolve(true))
      setTimeout(() => resolve(false), timeoutMs).unref()
    })
    tx.send('probe', port, group)
    return await heard
  } catch {
    return false
  } finally {
    rx.close()
    tx.close()
  }
}
