/** Exit codes of `cas`; documented in the README. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NOT_FOUND = 3
export const EXIT_INTEGRITY = 4
export const EXIT_NO_NODE = 5
export const EXIT_UNAUTHENTICATED = 6

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
