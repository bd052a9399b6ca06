import { createServer } from 'node:net'
import { formatHostPort, type HostPort } from './config-values.js'
import { PortInUseError } from './errors.js'

/**
 * Throws PortInUseError when `addr` cannot be bound now. Checked before the
 * data directory is touched, so that a start on a taken port creates no owner
 * key, certificate or token; the real listen still reports a port taken in
 * between. Port 0 (any free port) is not probed.
 */
export async function assertPortFree(addr: HostPort, what: string, option: string): Promise<void> {
  if (addr.port === 0) return
  const probe = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen({ host: addr.host, port: addr.port, exclusive: true }, resolve)
    })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(formatHostPort(addr), what, option)
    }
    throw err
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()))
  }
}
