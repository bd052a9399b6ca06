import { readFile } from 'node:fs/promises'
import type { OwnerKey } from '@cas/crypto'
import { homeOf } from '../connection.js'
import type { CommandContext } from '../context.js'
import { UsageError } from '../errors.js'
import { readSecret } from '../secret-input.js'

export interface InitOptions {
  /** Recover an owner: from a recovery phrase on stdin, or from `keyFile`. */
  recover?: boolean
  /** With `recover`: an owner key file written by `cas key export` (or a plain PKCS#8 PEM). */
  keyFile?: string
}

/**
 * `cas init`: creates the data directory, owner key, node certificate and API token. A new owner
 * key is derived from a fresh recovery phrase, shown once; `--recover` makes the same key again
 * from that phrase (or from an exported key file) on another machine.
 */
export async function init(ctx: CommandContext, opts: InitOptions = {}): Promise<void> {
  if (opts.keyFile !== undefined && opts.recover !== true) {
    throw new UsageError('--key-file recovers an owner: use it with --recover')
  }
  const home = homeOf({ home: ctx.globals.home, env: ctx.env })
  const crypto = await import('@cas/crypto')
  // Loaded only here, and only the data folder's part of the server: other commands never need it.
  const { prepareDataDir } = await import('@cas/server/data-dir')
  const passphrase = ctx.env.CAS_PASSPHRASE
  let phrase: string | undefined
  let recovered: OwnerKey | undefined
  if (opts.recover === true) {
    recovered =
      opts.keyFile === undefined
        ? phraseKey(crypto, await readSecret('recovery phrase: ', { multiline: true }))
        : await keyFileKey(crypto, opts.keyFile, ctx.env)
  }
  const dir = await prepareDataDir(home, {
    ...(passphrase ? { passphrase } : {}),
    ...(recovered !== undefined
      ? { ownerKey: recovered }
      : {
          createOwnerKey: () => {
            phrase = crypto.newRecoveryPhrase()
            return crypto.ownerKeyFromRecoveryPhrase(phrase)
          },
        }),
  })
  const result = {
    home,
    ownerId: dir.ownerKey.ownerId,
    nodeId: dir.identity.nodeId,
    created: dir.created,
    ...(phrase !== undefined && { recoveryPhrase: phrase }),
    ...(recovered !== undefined && { recovered: true }),
  }
  ctx.out.result(result, () =>
    [
      `home    ${home}`,
      `owner   ${result.ownerId}`,
      `node    ${result.nodeId}`,
      ...(phrase === undefined ? [] : ['', 'recovery phrase (shown this once):', ...numbered(phrase)]),
    ].join('\n'),
  )
  if (phrase !== undefined) {
    ctx.out.info(
      'write the recovery phrase down and keep it safe: with it, `cas init --recover` on a new machine ' +
        'gets your files back; anyone who has it can read them. It is not stored anywhere.',
    )
  } else if (recovered !== undefined) {
    ctx.out.info(
      dir.created.ownerKey
        ? 'recovered the owner key; start the node and connect it to a peer to fetch your files'
        : 'this data directory already holds that owner key; nothing was changed',
    )
  } else {
    ctx.out.info(
      dir.created.ownerKey
        ? 'created a new owner key; back it up with `cas key export` — without it your replicas cannot be read'
        : 'the data directory was already set up; nothing was changed',
    )
  }
}

/** The words in rows of four, numbered, as people copy them onto paper. */
function numbered(phrase: string): string[] {
  const words = phrase.split(' ')
  const rows: string[] = []
  for (let i = 0; i < words.length; i += 4) {
    rows.push(
      words
        .slice(i, i + 4)
        .map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(9)}`)
        .join(' ')
        .trimEnd(),
    )
  }
  return rows
}

type Crypto = typeof import('@cas/crypto')

function phraseKey(crypto: Crypto, phrase: string): OwnerKey {
  try {
    return crypto.ownerKeyFromRecoveryPhrase(phrase)
  } catch (err) {
    if (err instanceof crypto.InvalidRecoveryPhraseError) throw new UsageError(err.message)
    throw err
  }
}

async function keyFileKey(crypto: Crypto, path: string, env: NodeJS.ProcessEnv): Promise<OwnerKey> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read the key file ${path}: ${(err as Error).message}`)
  }
  if (!crypto.isSealedOwnerKey(text)) return crypto.ownerKeyFromPem(text, path)
  const passphrase = env.CAS_KEY_FILE_PASSPHRASE ?? (await readSecret(`passphrase of ${path}: `))
  return crypto.unsealOwnerKey(text, passphrase, path)
}
