import { ClientError as CliError } from '@cas/api/client'
import { EXIT_INTEGRITY, EXIT_USAGE } from './exit-codes.js'

/**
 * Base of every error the CLI reports, those of its API client (@cas/api/client) included;
 * `exitCode` is what the process exits with.
 */
export { ApiError, NodeUnreachableError } from '@cas/api/client'
export { CliError }

/** A command was used wrongly (bad argument, conflicting options). */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ERR_USAGE', message, EXIT_USAGE)
  }
}

/** Data read back did not hash to its cid. */
export class IntegrityError extends CliError {
  constructor(message: string) {
    super('ERR_INTEGRITY', message, EXIT_INTEGRITY)
  }
}
