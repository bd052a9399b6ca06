import type { Codec } from './codec.js'
import { DecodeError } from './errors.js'

const BIN = '$bin'
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * JSON bodies, with binary values as `{ "$bin": "<base64>" }`. Slower and
 * larger than msgpack; it exists to prove the codec seam and to read frames
 * by eye while debugging.
 */
export const jsonCodec: Codec = {
  name: 'json',
  encode: (message) => Buffer.from(JSON.stringify(toJson(message))),
  decode(body) {
    let text: string
    try {
      text = utf8.decode(body)
    } catch (err) {
      throw new DecodeError('JSON body is not valid UTF-8', { cause: err })
    }
    try {
      return JSON.parse(text, revive)
    } catch (err) {
      throw new DecodeError(`undecodable JSON body: ${(err as Error).message}`, { cause: err })
    }
  },
}

function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return { [BIN]: Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64') }
  if (Array.isArray(value)) return value.map(toJson)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v)
    return out
  }
  return value
}

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value)
    const b64 = (value as Record<string, unknown>)[BIN]
    if (keys.length === 1 && typeof b64 === 'string') return Buffer.from(b64, 'base64')
  }
  return value
}
