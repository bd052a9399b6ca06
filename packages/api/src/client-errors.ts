import { EXIT_FAILURE, EXIT_NO_NODE, exitCodeForCode } from './error-codes.js'

/** Base of the errors a client of the API meets; `exitCode` is what a command exits with for it. */
export class ClientError extends Error {
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

/** No node answers at the API address. */
export class NodeUnreachableError extends ClientError {
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

/** The node answered with an error; its stable code picks the exit code. */
export class ApiError extends ClientError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message, exitCodeForCode(code))
  }
}
