import { join } from 'node:path'
import { homeOf } from '../connection.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { readSecret } from '../secret-input.js'

/** The fewest characters an export passphrase may have: the file may end up anywhere. */
const MIN_EXPORT_PASSPHRASE = 8

/**
 * `cas key export -o FILE`: writes the owner key sealed with a passphrase (scrypt + AES-256-GCM),
 * for a backup kept apart from the machine; `cas init --recover --key-file FILE` reads it back.
 * Works without a running node.
 */
export async function exportKey(ctx: CommandContext, opts: { output: string }): Promise<void> {
  const home = homeOf({ home: ctx.globals.home, env: ctx.env })
  const { loadOwnerKey, saveOwnerKey } = await import('@cas/crypto')
  const { OWNER_KEY_FILE } = await import('@cas/server/data-dir')
  const passphrase = ctx.env.CAS_PASSPHRASE
  const key = await loadOwnerKey(join(home, OWNER_KEY_FILE), passphrase ? { passphrase } : {})
  const sealWith = ctx.env.CAS_KEY_FILE_PASSPHRASE ?? (await readSecret(`passphrase for ${opts.output}: `))
  if (process.stdin.isTTY && ctx.env.CAS_KEY_FILE_PASSPHRASE === undefined) {
    const again = await readSecret('the same passphrase again: ')
    if (again !== sealWith) throw new UsageError('the two passphrases differ; nothing was written')
  }
  if (sealWith.length < MIN_EXPORT_PASSPHRASE) {
    throw new UsageError(
      `the passphrase has ${sealWith.length} characters; use at least ${MIN_EXPORT_PASSPHRASE}`,
    )
  }
  await saveOwnerKey(opts.output, key, { passphrase: sealWith })
  const result = { ownerId: key.ownerId, file: opts.output }
  ctx.out.result(result, () => `owner   ${key.ownerId}\nfile    ${opts.output}`)
  ctx.out.info(
    'keep the file and its passphrase apart from this machine; `cas init --recover --key-file` reads it back',
  )
}
