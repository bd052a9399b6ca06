import { Hex64 } from '@cas/api'
import * as z from 'zod'

// What the CLI prints with --json where it is not a node's answer passed through (those are
// @cas/api's schemas); the tests check its output against these.

/** `cas get --json`. */
export const GetResultSchema = z.object({
  cid: Hex64,
  size: z.number().int().nonnegative(),
  path: z.string(),
})
export const InitResultSchema = z.object({
  home: z.string(),
  ownerId: Hex64,
  nodeId: Hex64,
  created: z.object({ ownerKey: z.boolean(), token: z.boolean() }),
  /** Shown once, when `init` made a new owner key from it. */
  recoveryPhrase: z.string().optional(),
  /** `init --recover` set this folder up with a recovered key. */
  recovered: z.literal(true).optional(),
})

export const KeyExportResultSchema = z.object({ ownerId: Hex64, file: z.string() })
