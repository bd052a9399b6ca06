import { createPrivateKey, hkdfSync, pbkdf2Sync, randomBytes } from 'node:crypto'
import { entropyToMnemonic, validateMnemonic } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { InvalidRecoveryPhraseError } from './errors.js'
import { type OwnerKey, ownerKeyFromPrivateKey } from './owner-key.js'

/** Words in a phrase made here: 24 words carry 256 bits of entropy, as much as the keys they open. */
export const RECOVERY_PHRASE_WORDS = 24

// BIP-39's seed: PBKDF2-HMAC-SHA512 over the NFKD phrase, salt "mnemonic" + passphrase, 2048 rounds.
const SEED_SALT = 'mnemonic'
const SEED_ROUNDS = 2048
// The owner key is one HKDF step away from the seed, under a label of its own, so that the same
// phrase could later derive other keys (and a wallet's seed derives nothing of ours by accident).
const OWNER_KEY_LABEL = 'cas/owner-key/1'
// PKCS#8 DER of an Ed25519 private key is this fixed prefix followed by the 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** A fresh phrase of `RECOVERY_PHRASE_WORDS` English BIP-39 words, from the operating system's random source. */
export function newRecoveryPhrase(): string {
  return entropyToMnemonic(randomBytes((RECOVERY_PHRASE_WORDS / 3) * 4), wordlist)
}

/**
 * Tidies a phrase as a person types it (case, spaces, line breaks) and checks its words and
 * checksum; a typo is an `InvalidRecoveryPhraseError` naming the first unknown word, if any.
 */
export function normalizeRecoveryPhrase(phrase: string): string {
  const words = phrase.normalize('NFKD').toLowerCase().trim().split(/\s+/).filter(Boolean)
  const normal = words.join(' ')
  const unknown = words.findIndex((w) => !wordlist.includes(w))
  if (unknown !== -1) {
    throw new InvalidRecoveryPhraseError(
      `word ${unknown + 1} (${JSON.stringify(words[unknown])}) is not in the BIP-39 English word list`,
    )
  }
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    throw new InvalidRecoveryPhraseError(`a recovery phrase has 12 to 24 words; this one has ${words.length}`)
  }
  if (!validateMnemonic(normal, wordlist)) {
    throw new InvalidRecoveryPhraseError('its checksum does not match: a word is wrong or out of place')
  }
  return normal
}

/** The owner key a phrase stands for: the same phrase gives the same key on any machine. */
export function ownerKeyFromRecoveryPhrase(phrase: string): OwnerKey {
  const seed = seedOfRecoveryPhrase(phrase)
  const ed25519Seed = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), OWNER_KEY_LABEL, 32))
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, ed25519Seed]),
    format: 'der',
    type: 'pkcs8',
  })
  return ownerKeyFromPrivateKey(privateKey)
}

/** BIP-39's 64-byte seed of a phrase (with no BIP-39 passphrase): what wallets would derive too. */
export function seedOfRecoveryPhrase(phrase: string): Buffer {
  return pbkdf2Sync(normalizeRecoveryPhrase(phrase), SEED_SALT, SEED_ROUNDS, 64, 'sha512')
}
