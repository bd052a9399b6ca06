import { ErrorBodySchema } from '@cas/api'

/** A failed API call: the node's error code (`ERR_QUOTA` …) and HTTP status, or a local one. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    /** The node's code; `ERR_NETWORK` when it could not be reached, `ERR_BAD_RESPONSE` for an answer that does not fit the contract. */
    readonly code: string,
    message: string,
    /** HTTP status; 0 when no answer came. */
    readonly status: number,
  ) {
    super(message)
  }

  get unauthenticated(): boolean {
    return this.status === 401
  }
}

/** The error an answer with a failure status stands for, from its JSON body when it has one. */
export function errorFromBody(status: number, text: string): ApiError {
  try {
    const body = ErrorBodySchema.safeParse(JSON.parse(text))
    if (body.success) return new ApiError(body.data.error.code, body.data.error.message, status)
  } catch {
    // Not JSON: a proxy's page, or an empty body.
  }
  return new ApiError(`HTTP_${status}`, `The node answered ${status}`, status)
}

/** Any thrown value as an ApiError, for display. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof Error) return new ApiError('ERR_CLIENT', error.message, 0)
  return new ApiError('ERR_CLIENT', String(error), 0)
}

/** `Quota exceeded (ERR_QUOTA)`: the message for people, the code for searching. */
export function describeError(error: unknown): string {
  const e = toApiError(error)
  return e.code.startsWith('ERR_') ? `${e.message} (${e.code})` : e.message
}
