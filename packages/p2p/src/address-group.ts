import { isIP } from 'node:net'

/**
 * The network an address belongs to, as far as one operator is likely to control it: the /24 of an
 * IPv4 address (IPv4-mapped IPv6 included), the /48 of an IPv6 address. Caps on inbound connections
 * and on replicas per group keep one host, or one rented block of hosts, from posing as many peers.
 * A string that is no IP address is its own group.
 */
export function addressGroup(ip: string): string {
  const host = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)
  const v4 = mapped ? mapped[1]! : host
  if (isIP(v4) === 4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`
  if (isIP(host) === 6) return `${expandV6(host).slice(0, 3).join(':')}::/48`
  return host
}

/** The group of a peer's `host:port` (or `[v6]:port`, or a bare v6 `a:b::c:port` as sockets report it). */
export function addressGroupOf(hostPort: string): string {
  const cut = hostPort.lastIndexOf(':')
  return addressGroup(cut > 0 ? hostPort.slice(0, cut) : hostPort)
}

/** Whether an address is a loopback one (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
export function isLoopback(ip: string): boolean {
  const host = ip.replace(/^::ffff:/i, '')
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1'
}

function expandV6(ip: string): string[] {
  const [head = '', tail] = ip.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0')
  return [...left, ...fill, ...right].map((p) => (Number.parseInt(p, 16) || 0).toString(16))
}
