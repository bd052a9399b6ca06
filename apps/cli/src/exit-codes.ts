import {
  EXIT_FAILURE,
  EXIT_INTEGRITY,
  EXIT_NO_NODE,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_UNAUTHENTICATED,
  EXIT_USAGE,
} from '@cas/api'

// Exit codes of `cas` (documented in the README) live with the error codes they answer, in @cas/api.
export {
  EXIT_FAILURE,
  EXIT_INTEGRITY,
  EXIT_NO_NODE,
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_UNAUTHENTICATED,
  EXIT_USAGE,
}

/** Each exit code with a word for `--help` and a sentence for the manual page; one table for both. */
export const EXIT_CODE_MEANINGS: readonly { code: number; short: string; long: string }[] = [
  { code: EXIT_OK, short: 'ok', long: 'success' },
  { code: EXIT_FAILURE, short: 'failure', long: 'any other failure' },
  {
    code: EXIT_USAGE,
    short: 'usage',
    long: 'bad arguments, an unknown command or option, a refused name or capability, a ref that fits several objects',
  },
  { code: EXIT_NOT_FOUND, short: 'not found', long: 'no such object, name or capability' },
  {
    code: EXIT_INTEGRITY,
    short: 'integrity error',
    long: 'data failed verification, or verify found damage',
  },
  { code: EXIT_NO_NODE, short: 'no node running', long: 'no node answers at the API address' },
  { code: EXIT_UNAUTHENTICATED, short: 'bad API token', long: 'the API token is missing or wrong' },
]
