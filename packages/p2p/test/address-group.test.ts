import { describe, expect, it } from 'vitest'
import { addressGroup, addressGroupOf, isLoopback } from '../src/index.js'

describe('addressGroup', () => {
  it('puts IPv4 addresses of one /24 together and others apart', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.0/24')
    expect(addressGroup('203.0.113.250')).toBe(addressGroup('203.0.113.7'))
    expect(addressGroup('203.0.114.7')).not.toBe(addressGroup('203.0.113.7'))
  })

  it('treats an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressGroup('::ffff:203.0.113.9')).toBe('203.0.113.0/24')
  })

  it('puts IPv6 addresses of one /48 together, however they are written', () => {
    expect(addressGroup('2001:db8:1::1')).toBe('2001:db8:1::/48')
    expect(addressGroup('2001:0db8:0001:ffff::9')).toBe('2001:db8:1::/48')
    expect(addressGroup('[2001:db8:2::1]')).toBe('2001:db8:2::/48')
    expect(addressGroup('::1')).toBe('0:0:0::/48')
  })

  it('reads the group of a host:port as sockets and hellos write it', () => {
    expect(addressGroupOf('203.0.113.7:4001')).toBe('203.0.113.0/24')
    expect(addressGroupOf('[2001:db8:1::1]:4001')).toBe('2001:db8:1::/48')
    expect(addressGroupOf('2001:db8:1::1:4001')).toBe('2001:db8:1::/48')
  })

  it('knows loopback addresses', () => {
    expect(isLoopback('127.0.0.1')).toBe(true)
    expect(isLoopback('127.9.8.7')).toBe(true)
    expect(isLoopback('::1')).toBe(true)
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true)
    expect(isLoopback('10.0.0.1')).toBe(false)
  })
})
