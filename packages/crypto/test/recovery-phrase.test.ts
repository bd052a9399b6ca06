import { describe, expect, it } from 'vitest'
import {
  InvalidRecoveryPhraseError,
  newRecoveryPhrase,
  normalizeRecoveryPhrase,
  ownerKeyFromRecoveryPhrase,
  RECOVERY_PHRASE_WORDS,
  sign,
  verify,
} from '../src/index.js'
import { seedOfRecoveryPhrase } from '../src/recovery-phrase.js'

// BIP-39's all-zero entropy phrases: valid words and checksums, fixed for the tests below.
const TWELVE = `${'abandon '.repeat(11)}about`
const TWENTY_FOUR = `${'abandon '.repeat(23)}art`

describe('recovery phrases', () => {
  it('makes 24-word phrases that differ every time and pass their own checksum', () => {
    const a = newRecoveryPhrase()
    const b = newRecoveryPhrase()
    expect(a.split(' ')).toHaveLength(RECOVERY_PHRASE_WORDS)
    expect(a).not.toBe(b)
    expect(normalizeRecoveryPhrase(a)).toBe(a)
  })

  it('derives the same owner key from the same phrase, however it is typed', () => {
    const phrase = newRecoveryPhrase()
    const key = ownerKeyFromRecoveryPhrase(phrase)
    const typed = `  ${phrase.toUpperCase().split(' ').join('\n  ')}\n`
    expect(ownerKeyFromRecoveryPhrase(typed).ownerId).toBe(key.ownerId)
    expect(ownerKeyFromRecoveryPhrase(newRecoveryPhrase()).ownerId).not.toBe(key.ownerId)
    // It is a working Ed25519 key: what it signs verifies under its public half.
    const message = Buffer.from('cas')
    expect(verify(key.publicKeyDer, message, sign(key, message))).toBe(true)
  })

  it("derives BIP-39's seed: the published test vector", () => {
    // BIP-39's reference vectors (trezor/python-mnemonic), entropy 00…00, with no passphrase.
    expect(seedOfRecoveryPhrase(TWELVE).toString('hex')).toBe(
      '5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc1' +
        '9a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4',
    )
  })

  it('pins the derivation: a phrase written down today opens the same key in every later version', () => {
    // Computed once with this code; a change here strands every phrase users have written down.
    expect(ownerKeyFromRecoveryPhrase(TWENTY_FOUR).ownerId).toBe(PINNED_24)
    expect(ownerKeyFromRecoveryPhrase(TWELVE).ownerId).toBe(PINNED_12)
  })

  it('refuses a mistyped phrase with ERR_INVALID_RECOVERY_PHRASE saying what is wrong', () => {
    const words = newRecoveryPhrase().split(' ')
    const cases: [string, RegExp][] = [
      [[...words.slice(0, 5), 'abandonn', ...words.slice(6)].join(' '), /word 6 \("abandonn"\)/],
      [words.slice(0, 23).join(' '), /has 23/],
      [[words[1], words[0], ...words.slice(2)].join(' '), /checksum/],
      ['', /has 0/],
    ]
    // Swapping two words can, rarely, still pass the 8-bit checksum; the fixed phrase cannot.
    if (normalizeSafe(cases[2]![0]) !== undefined)
      cases[2] = [`about ${'abandon '.repeat(22)}art`, /checksum/]
    for (const [phrase, message] of cases) {
      let caught: unknown
      try {
        ownerKeyFromRecoveryPhrase(phrase)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(InvalidRecoveryPhraseError)
      expect((caught as InvalidRecoveryPhraseError).code).toBe('ERR_INVALID_RECOVERY_PHRASE')
      expect((caught as Error).message).toMatch(message)
    }
  })
})

function normalizeSafe(phrase: string): string | undefined {
  try {
    return normalizeRecoveryPhrase(phrase)
  } catch {
    return undefined
  }
}

const PINNED_24 = '1153354852f871fb21f11cb79402b448821884b87ccb4abe0168d574aff3bf50'
const PINNED_12 = '32436d51d4358b83b1b8a9f6040bf6d504d283396557caacb72e92715f540b04'
