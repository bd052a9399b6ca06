import * as z from 'zod'

/** A cid, node id or owner id: 64 lowercase hex digits. */
export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/)

/** Milliseconds since 1970. */
export const Millis = z.number().nonnegative()

export const Count = z.number().int().nonnegative()
