import { describe, expect, it } from 'vitest'
import { casPathTransform } from '../src/index.js'

describe('casPathTransform', () => {
  it('matches the original system’s test vector', () => {
    expect(casPathTransform('momsbestpicture')).toBe(
      '68044/29f74/181a6/3c50c/3d81d/733a1/2f14a/353ff/6804429f74181a63c50c3d81d733a12f14a353ff',
    )
  })

  it('cuts the 40-hex SHA-1 into eight 5-character folders and names the file by the whole digest', () => {
    const parts = casPathTransform('any key at all').split('/')
    expect(parts).toHaveLength(9)
    for (const folder of parts.slice(0, 8)) expect(folder).toMatch(/^[0-9a-f]{5}$/)
    expect(parts[8]).toBe(parts.slice(0, 8).join(''))
  })

  it('turns hostile keys into plain hex paths', () => {
    for (const key of ['../../etc/passwd', '/etc/passwd', 'a/../../b', '..']) {
      expect(casPathTransform(key)).toMatch(/^([0-9a-f]{5}\/){8}[0-9a-f]{40}$/)
    }
  })
})
