import { InvalidNameError } from './errors.js'

/**
 * Longest name, in UTF-8 bytes. Names are keys of the catalogue (LMDB refuses
 * keys over 1978 bytes), so the limit is in bytes, not characters.
 */
export const MAX_NAME_BYTES = 1024

// C0 controls and DEL: a name is printed by `cas ls`, and must not carry terminal escapes or NULs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/

/** Why `name` cannot name an object, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a name is not empty'
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
    return `a name is at most ${MAX_NAME_BYTES} bytes of UTF-8`
  if (CONTROL.test(name)) return 'a name holds no control characters'
  return undefined
}

export function assertName(name: string): string {
  const problem = nameProblem(name)
  if (problem) throw new InvalidNameError(name, problem)
  return name
}
