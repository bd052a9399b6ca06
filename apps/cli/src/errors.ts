import { exitCodeForCode } from '@cas/api'
import {
  EXIT_FAILURE,
  EXIT_INTEGRITY,
  EXIT_NO_NODE,
  EXIT_USAGE,
} from './exit-codes.js'

/** Base of every error the CLI reports; `exitCode` is what the process exits with. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A command was used wrongly (bad argument, conflicting options). */
export class UsageError extends CliError {
  constructor(message: string) {
    super('ERR_USAGE', message, EXIT_USAGE)
  }
}

/** No node answers at the API address. */
export class NodeUnreachableError extends CliError {
  constructor(
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(
      'ERR_NODE_UNREACHABLE',
      `no cas node answers at ${url}; start one with \`pnpm --filter node start\` (or \`cas-node\`), or point --api / CAS_API at a running node`,
      EXIT_NO_NODE,
      options,
    )
  }
}

/** Data read back did not hash to its cid. */
export class IntegrityError extends CliError {
  constructor(message: string) {
    super('ERR_INTEGRITY', message, EXIT_INTEGRITY)
  }
}

/** The node answered with an error; its stable code picks the exit code. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message, exitCodeForCode(code))
  }
}
