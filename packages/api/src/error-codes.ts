/**
 * Every error code a node answers with, its HTTP status and the exit code of the `cas` command
 * that received it: one table for the node, the CLI and the dashboard.
 */

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NOT_FOUND = 3
export const EXIT_INTEGRITY = 4
export const EXIT_NO_NODE = 5
export const EXIT_UNAUTHENTICATED = 6

/** Each exit code of `cas` with a word for `--help` and a sentence for its manual page. */
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

export interface ErrorCodeInfo {
  status: number
  exit: number
}

export const ERROR_CODES: Readonly<Record<string, ErrorCodeInfo>> = {
  ERR_BAD_REQUEST: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_ID: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_KEY: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_NAME: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_CAPABILITY: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_RANGE: { status: 400, exit: EXIT_USAGE },
  ERR_INVALID_RECOVERY_PHRASE: { status: 400, exit: EXIT_USAGE },
  ERR_UNAUTHENTICATED: { status: 401, exit: EXIT_UNAUTHENTICATED },
  ERR_FORBIDDEN_HOST: { status: 403, exit: EXIT_FAILURE },
  ERR_FORBIDDEN_ORIGIN: { status: 403, exit: EXIT_FAILURE },
  ERR_UNAUTHORIZED: { status: 403, exit: EXIT_FAILURE },
  ERR_NOT_FOUND: { status: 404, exit: EXIT_NOT_FOUND },
  ERR_NO_ROUTE: { status: 404, exit: EXIT_FAILURE },
  ERR_METHOD_NOT_ALLOWED: { status: 405, exit: EXIT_FAILURE },
  ERR_AMBIGUOUS: { status: 409, exit: EXIT_USAGE },
  ERR_TOO_LARGE: { status: 413, exit: EXIT_FAILURE },
  ERR_BODY_TOO_LARGE: { status: 413, exit: EXIT_FAILURE },
  ERR_INTEGRITY: { status: 502, exit: EXIT_INTEGRITY },
  ERR_TIMEOUT: { status: 504, exit: EXIT_FAILURE },
  ERR_QUOTA: { status: 507, exit: EXIT_FAILURE },
  ERR_DISK_FULL: { status: 507, exit: EXIT_FAILURE },
}

/** The HTTP status of an error code; 500 for any other. */
export function statusForCode(code: string | undefined): number {
  return (code !== undefined && ERROR_CODES[code]?.status) || 500
}

/** The exit code of the `cas` command for an error code the node answered with. */
export function exitCodeForCode(code: string): number {
  return ERROR_CODES[code]?.exit ?? EXIT_FAILURE
}
