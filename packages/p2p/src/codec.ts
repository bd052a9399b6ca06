import { Packr } from 'msgpackr'
import { DecodeError, P2pError } from './errors.js'
import { checkMsgpack } from './msgpack-guard.js'

/**
 * Turns one message into a frame body and back. Framing and limits are the
 * same whichever codec runs; both ends of a connection must use the same one.
 */
export interface Codec {
  readonly name: string
  /** The body's bytes; they may be overwritten by the next call, so copy them before keeping. */
  encode(message: unknown): Uint8Array
  /** Plain data only (no class instances); binary values may be views into `body`. Throws DecodeError. */
  decode(body: Uint8Array): unknown
  /**
   * Optional fast path for the bulk of a stream: the bytes of a
   * `chunk { type, id, seq, data }` body that come before `data`, so that the
   * data is copied once into the frame instead of through the encoder.
   */
  encodeChunkHead?(id: number, seq: number, size: number): Uint8Array
}

// useRecords: false so that every frame decodes on its own, with no shared structure table.
const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true })

// A 4-entry map: 'type': 'chunk', 'id': <id>, 'seq': <seq>, 'data': <bin 32 header>.
const CHUNK_HEAD_START = Buffer.from([
  0x84,
  0xa4,
  ...Buffer.from('type'),
  0xa5,
  ...Buffer.from('chunk'),
  0xa2,
  ...Buffer.from('id'),
])
const CHUNK_SEQ_KEY = Buffer.from([0xa3, ...Buffer.from('seq')])
const CHUNK_DATA_KEY = Buffer.from([0xa4, ...Buffer.from('data')])

export const msgpackCodec: Codec = {
  name: 'msgpack',
  encode: (message) => packr.pack(message),
  encodeChunkHead(id, seq, size) {
    const idBytes = packr.pack(id)
    const idPart = Buffer.concat([CHUNK_HEAD_START, idBytes, CHUNK_SEQ_KEY])
    const seqBytes = packr.pack(seq)
    const tail = Buffer.allocUnsafe(CHUNK_DATA_KEY.length + 5)
    tail.set(CHUNK_DATA_KEY, 0)
    tail[CHUNK_DATA_KEY.length] = 0xc6 // bin 32
    tail.writeUInt32BE(size, CHUNK_DATA_KEY.length + 1)
    return Buffer.concat([idPart, seqBytes, tail])
  },
  decode(body) {
    checkMsgpack(body)
    try {
      return packr.unpack(body)
    } catch (err) {
      if (err instanceof P2pError) throw err
      throw new DecodeError(`undecodable msgpack body: ${(err as Error).message}`, { cause: err })
    }
  },
}
