import type { OwnerKey } from '@cas/crypto'
import { type Commit, MAX_COMMIT_BATCH, type SignedCommit, signCommits } from './commit.js'

interface Waiting {
  commit: Commit
  resolve: (signed: SignedCommit) => void
  reject: (err: unknown) => void
}

/**
 * Signs the commits of puts that end together with one signature. A commit asked for waits until
 * the event loop's current turn is over (setImmediate, no timer): a lone put is signed at once,
 * while the puts that finish in the same turn, as they do when many run, share the signature and
 * each holder checks it once.
 */
export class CommitSigner {
  readonly #key: OwnerKey
  readonly #waiting: Waiting[] = []
  #scheduled = false

  constructor(key: OwnerKey) {
    this.#key = key
  }

  sign(commit: Commit): Promise<SignedCommit> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ commit, resolve, reject })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, MAX_COMMIT_BATCH)
      let signed: SignedCommit[]
      try {
        signed = signCommits(
          this.#key,
          batch.map((w) => w.commit),
        )
      } catch (err) {
        for (const w of batch) w.reject(err)
        continue
      }
      for (const [i, w] of batch.entries()) w.resolve(signed[i] as SignedCommit)
    }
  }
}
